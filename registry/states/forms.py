from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from registry.enums import StateStatus
from registry.forms import NoControlCharacters
from registry.i18n import _l


class ChangeStatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=StateStatus.choices, validators=[DataRequired()])
    valid_from = DateField(_l("In effect from"), validators=[DataRequired()])
    source = StringField(
        _l("Source"),
        validators=[DataRequired(), Length(max=300), NoControlCharacters()],
        description=_l("The decision or declaration that changed the status, e.g. the summit and its date."),
    )
