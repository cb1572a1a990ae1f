from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from registry.enums import Role
from registry.forms import NoControlCharacters, SingleSelectField, optional_int
from registry.i18n import _l
from registry.models.user import DISPLAY_NAME_MAX, EMAIL_MAX
from registry.passwords import PASSWORD_MAX, PASSWORD_MIN


class _UserFields(FlaskForm):
    display_name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=DISPLAY_NAME_MAX), NoControlCharacters()]
    )
    role = SingleSelectField(_l("Role"), choices=Role.choices, validators=[DataRequired()])
    state_id = SingleSelectField(
        _l("Member state"),
        coerce=optional_int,
        validate_choice=False,  # the service answers an unknown state with a message beside the field
        description=_l("Only for liaison officers: the state they file for."),
    )


class UserCreateForm(_UserFields):
    email = StringField(
        _l("E-mail"), validators=[DataRequired(), Length(max=EMAIL_MAX), NoControlCharacters(), Email()]
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX), NoControlCharacters()],
        description=_l("At least 12 characters. Give it to the user by a separate channel."),
    )


class UserEditForm(_UserFields):
    version = HiddenField()


class VersionForm(FlaskForm):
    """For one-button actions (deactivate, reactivate): carries the version the admin saw."""

    version = HiddenField()


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX), NoControlCharacters()],
    )


class SecuritySettingsForm(FlaskForm):
    second_factor_for_everyone = BooleanField(
        _l("Require a second factor for every account, liaison officers included"),
        description=_l("The Secretariat, auditors and administrators always need one. Officers without one are "
                       "sent to set it up at their next page."),
    )


class PlainForm(FlaskForm):
    """A one-button form: only the CSRF token."""
