"""Forms of the exports page: a list's export as a job, and the bundle of everything."""

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField
from wtforms.validators import Optional

from registry.i18n import _l


class JobForm(FlaskForm):
    dataset = HiddenField()
    fmt = HiddenField()
    filters = HiddenField()  # the list's query string, checked again by the service


class _Date(DateField):
    """A date whose parse error is ours (translated), not WTForms' built-in English one."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Enter a date as YYYY-MM-DD.")) from exc


class BundleForm(FlaskForm):
    period_from = _Date(_l("From (optional)"), validators=[Optional()], render_kw={"type": "date"})
    period_to = _Date(_l("To (optional)"), validators=[Optional()], render_kw={"type": "date"})
