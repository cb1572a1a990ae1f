"""Checks applied before anything reaches the database.

PostgreSQL refuses NUL bytes, strings longer than the column and integers of 2**31 and more,
which SQLite silently stores; checking here makes both backends answer the same clear message.
"""

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from registry.i18n import _
from registry.services.errors import ValidationFailed

# C0/C1 control characters except tab, newline and carriage return; plus bidi overrides.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
INT32_MAX = 2**31 - 1


class Errors:
    """Collects field errors so that one submit reports every problem at once."""

    def __init__(self):
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationFailed(self.by_field)


def control_character_message(value: str, multiline: bool = False) -> str | None:
    if "\x00" in value or _CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        return _("Remove the control characters from this field.")
    return None


def clean_text(
    errors: Errors, field: str, value: str | None, *, max_length: int, required: bool = True, multiline=False
) -> str:
    value = unicodedata.normalize("NFC", (value or "").strip())
    message = control_character_message(value, multiline)
    if message:
        errors.add(field, message)
    elif required and not value:
        errors.add(field, _("This field is required."))
    elif len(value) > max_length:
        errors.add(field, _("At most %(n)d characters.", n=max_length))
    return value


def clean_email(errors: Errors, field: str, value: str | None) -> str:
    value = clean_text(errors, field, value, max_length=254)
    if field in errors.by_field:
        return value
    try:
        # Deliverability needs DNS, which registry machines may not have.
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        errors.add(field, _("Enter a valid e-mail address."))
        return value
    return result.normalized.lower()


def clean_int(errors: Errors, field: str, value, *, minimum: int = 0, maximum: int = INT32_MAX) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add(field, _("Enter a whole number."))
        return None
    if not minimum <= number <= maximum:
        errors.add(field, _("Enter a number from %(lo)d to %(hi)d.", lo=minimum, hi=maximum))
        return None
    return number
