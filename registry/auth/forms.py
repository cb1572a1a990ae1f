from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from registry.forms import NoControlCharacters
from registry.i18n import _l
from registry.passwords import PASSWORD_MAX, PASSWORD_MIN


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254), NoControlCharacters()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    next = HiddenField()


class LogoutForm(FlaskForm):
    pass


class ButtonForm(FlaskForm):
    """A form of one button: only the CSRF token."""


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX), NoControlCharacters()],
        description=_l("At least 12 characters. A long phrase is easier to remember than symbols."),
    )


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=64), NoControlCharacters()],
        description=_l("The 6-digit code from your authenticator app, or one of your recovery codes."),
    )


class ConfirmSecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=64), NoControlCharacters()],
        description=_l("Enter the 6-digit code your authenticator app shows for this account."),
    )


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("E-mail"), validators=[DataRequired(), Length(max=254), NoControlCharacters()])


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX), NoControlCharacters()],
        description=_l("At least 12 characters. A long phrase is easier to remember than symbols."),
    )


class ReauthenticateForm(FlaskForm):
    """A change to how one signs in: the password is asked again."""

    current_password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
