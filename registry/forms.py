"""Form pieces shared by the blueprints."""

import re
from datetime import date

from wtforms import SelectField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import DateInput

from registry.i18n import _l
from registry.services.validation import control_character_message


class NoControlCharacters:
    """Refuse NUL and other control characters before PostgreSQL does it with a 500."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, form, field):
        if isinstance(field.data, str):
            message = control_character_message(field.data, self.multiline)
            if message:
                raise ValidationError(message)


def optional_int(value):
    """Coerce a select's value to int, '' (or None) to None, anything else to an invalid marker."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class SingleSelectField(SelectField):
    """A select that refuses a repeated key (`role=admin&role=officer`) instead of silently taking the first."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist[:1])
        if len(valuelist) > 1:
            raise ValueError(_l("Choose only one value."))


LANGUAGE_CHOICES = [("ru", "Русский"), ("zh", "中文"), ("en", "English")]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class DateText(StringField):
    """A date typed as YYYY-MM-DD (a date picker where the browser has one), kept exactly as typed.

    Unlike wtforms' DateField it never fails on its own: `as_date()` gives the date, or the text when it is
    not one, and the service answers "Enter a date as YYYY-MM-DD." beside the field.
    """

    widget = DateInput()

    def as_date(self) -> date | str | None:
        text = (self.data or "").strip()
        if not text:
            return None
        if ISO_DATE.fullmatch(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        return text


def with_blank(choices):
    """A select that starts empty: "— choose —", then the enum's options (labels translated when shown)."""
    return lambda: [("", _l("— choose —")), *choices()]
