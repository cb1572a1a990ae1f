"""The form that creates a personal API token; the service (services/api_tokens.py) validates its values."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectMultipleField, StringField, widgets
from wtforms.validators import Length

from registry.i18n import _l
from registry.models.api_token import TOKEN_NAME_MAX
from registry.passwords import PASSWORD_MAX
from registry.services.api_tokens import DEFAULT_DAYS, MAX_DAYS


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"maxlength": TOKEN_NAME_MAX},
                       description=_l("What the token is for, e.g. the ministry's records system."))
    # Choices are the scopes the user's role allows (set per request); the service checks what is sent.
    scopes = SelectMultipleField(_l("Scopes"), choices=[], validate_choice=False,
                                 widget=widgets.ListWidget(prefix_label=False),
                                 option_widget=widgets.CheckboxInput())
    days = StringField(_l("Valid for (days)"), default=str(DEFAULT_DAYS),
                       render_kw={"inputmode": "numeric", "class": "number"},
                       description=_l("From 1 to %(n)d days.", n=MAX_DAYS))
    password = PasswordField(_l("Your password"), validators=[Length(max=PASSWORD_MAX)])


class RevokeForm(FlaskForm):
    pass
