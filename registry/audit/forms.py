"""The audit log's filters: a GET form (no CSRF: it changes nothing), checked before any query."""

from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import AnyOf, Length, Optional, ValidationError

from registry.i18n import _l

OUTCOMES = ("success", "failure", "denied")
TOO_LONG = _l("At most %(max)d characters.")


def _printable(form, field):
    if field.data and any(ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF for ch in field.data):
        raise ValidationError(_l("Remove the control characters from this field."))


class _Date(DateField):
    """A date whose parse error is ours (translated), not WTForms' built-in English one."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Enter a date as YYYY-MM-DD.")) from exc


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AuditFilterForm(Form):
    actor = StringField(_l("Who (e-mail contains)"), filters=[_strip],
                        validators=[Optional(), Length(max=254, message=TOO_LONG), _printable])
    action = StringField(_l("Action starts with"), filters=[_strip],
                         validators=[Optional(), Length(max=64, message=TOO_LONG), _printable])
    state = StringField(_l("State code"), filters=[_strip, lambda v: v.upper() if isinstance(v, str) else v],
                        validators=[Optional(), Length(min=2, max=2, message=_l("Two letters, e.g. KZ.")),
                                    _printable])
    object = StringField(_l("Object (reference number or id)"), filters=[_strip],
                         validators=[Optional(), Length(max=64, message=TOO_LONG), _printable])
    date_from = _Date(_l("From (UTC date)"), validators=[Optional()], render_kw={"type": "date"})
    date_to = _Date(_l("To (UTC date, inclusive)"), validators=[Optional()], render_kw={"type": "date"})
    # Checked by AnyOf with our message rather than by WTForms' untranslated "Not a valid choice".
    outcome = SelectField(_l("Outcome"), choices=lambda: [("", _l("All")), *[(o, o) for o in OUTCOMES]],
                          validate_choice=False,
                          validators=[Optional(),
                                      AnyOf(["", *OUTCOMES], message=_l("Choose one of the listed outcomes."))])

    def validate_state(self, field):
        if field.data and not (field.data.isascii() and field.data.isalpha()):
            raise ValidationError(_l("Two letters, e.g. KZ."))

    def validate_date_from(self, field):
        if field.data and not 2000 <= field.data.year <= 9000:
            raise ValidationError(_l("Choose a date between 2000 and 9000."))

    def validate_date_to(self, field):
        if field.data and not 2000 <= field.data.year <= 9000:
            raise ValidationError(_l("Choose a date between 2000 and 9000."))
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
