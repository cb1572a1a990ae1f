from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from registry.enums import StateStatus
from registry.forms import NoControlCharacters, SingleSelectField
from registry.i18n import _l


class ChangeStatusForm(FlaskForm):
    status = SingleSelectField(_l("New status"), choices=StateStatus.choices, validators=[DataRequired()])
    # InputRequired, not DataRequired: an unparseable date must say "Not a valid date value.", not "required".
    valid_from = DateField(_l("In effect from"), validators=[InputRequired()])
    source = StringField(
        _l("Source"),
        validators=[DataRequired(), Length(max=300), NoControlCharacters()],
        description=_l("The decision or declaration that changed the status, e.g. the summit and its date."),
    )
