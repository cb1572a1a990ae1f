from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import Length

from registry.enums import CommentVisibility
from registry.forms import NoControlCharacters
from registry.i18n import _l
from registry.services.submissions import COMMENT_MAX


class ActionForm(FlaskForm):
    """Every workflow button posts this: the version the user saw, and an optional comment or reason."""

    lock_version = HiddenField()
    comment = TextAreaField(_l("Comment or reason"), validators=[Length(max=COMMENT_MAX),
                                                                 NoControlCharacters(multiline=True)])
    comment_visibility = RadioField(_l("Who may read it"), choices=CommentVisibility.choices,
                                    default=CommentVisibility.SHARED.value)
