"""Forms of the structure disclosure pages. The service (registry/services/structures.py) validates what was typed;
these forms check the CSRF token, a select sent twice and the envelope choices."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField

from registry.enums import Visibility
from registry.forms import LANGUAGE_CHOICES, SingleSelectField
from registry.i18n import _l
from registry.models.structure import NAME_MAX
from registry.models.submission import SOURCE_DOCUMENT_MAX


class NewStructureForm(FlaskForm):
    idempotency_key = HiddenField()
    state_id = SingleSelectField(_l("Filing state"), choices=[], validate_choice=False,
                                 description=_l("The state on whose behalf the Secretariat enters this disclosure."))
    source_document = StringField(_l("Source document"), render_kw={"maxlength": SOURCE_DOCUMENT_MAX},
                                  description=_l("The note verbale the disclosure was received in."))
    year = StringField(_l("Structure as of 1 January of"), render_kw={"inputmode": "numeric", "maxlength": 4},
                       description=_l("Due on 15 December of the year before. It cannot be changed later."))
    visibility = SingleSelectField(_l("Who may see the accepted disclosure"), choices=Visibility.choices,
                                   default=Visibility.MEMBERS.value)
    original_language = SingleSelectField(_l("Language of the original"), choices=lambda: LANGUAGE_CHOICES,
                                          default="ru")


class DisclosureForm(FlaskForm):
    lock_version = HiddenField()
    ministry_name_ru = StringField(_l("Ministry's name in Russian"), render_kw={"maxlength": NAME_MAX})
    ministry_name_zh = StringField(_l("Ministry's name in Chinese"), render_kw={"maxlength": NAME_MAX})
    ministry_name_en = StringField(_l("Ministry's name in English"), render_kw={"maxlength": NAME_MAX})
    ministry_name_native = StringField(_l("Ministry's name in the national language"),
                                       render_kw={"maxlength": NAME_MAX})
    visibility = SingleSelectField(_l("Who may see the accepted disclosure"), choices=Visibility.choices)


class TreeEditForm(FlaskForm):
    """Every form of the unit page and the "add a unit" form: the token and the version the page showed;
    the fields themselves are read by name and validated by the service."""

    lock_version = HiddenField()


class ImportForm(FlaskForm):
    lock_version = HiddenField()
    file = FileField(_l("CSV or XLSX file"))
