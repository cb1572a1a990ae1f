"""Form pieces shared by the blueprints."""

from wtforms import SelectField
from wtforms.validators import ValidationError

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
