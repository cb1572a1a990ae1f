"""The administrator's form that puts a threshold profile in or out of force."""

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf

from registry.i18n import _l


class SingleHiddenField(HiddenField):
    """A hidden value that refuses a repeated key (`in_force=0&in_force=1`) instead of taking the first."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist[:1])
        if len(valuelist) > 1:
            raise ValueError(_l("Choose only one value."))


class InForceForm(FlaskForm):
    # "1": put in force, "0": take out of force; anything else is refused, never guessed.
    in_force = SingleHiddenField(validators=[AnyOf(["0", "1"],
                                                   message=_l("Choose whether the profile is in force."))])
