"""The notification preferences form."""

from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from registry.i18n import _l
from registry.services.notifications import CATEGORIES


class _Date(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Enter a date as YYYY-MM-DD.")) from exc


class PreferencesForm(FlaskForm):
    # Unknown values are refused by the service with our own message (not WTForms' untranslated one).
    wanted = SelectMultipleField(_l("Send me e-mail about"), choices=lambda: list(CATEGORIES.items()),
                                 validate_choice=False, widget=ListWidget(prefix_label=False),
                                 option_widget=CheckboxInput())
    paused_until = _Date(_l("Pause e-mail until (inclusive)"), validators=[Optional()], render_kw={"type": "date"},
                         description=_l("Leave empty for no pause. Notifications still appear in your list."))
