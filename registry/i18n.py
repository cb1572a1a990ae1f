"""Translation helpers. Every user-facing string goes through `_` (or `_l` where it is evaluated at import)."""

from flask import current_app, request
from flask_babel import Babel, gettext, lazy_gettext
from flask_login import current_user

_ = gettext
_l = lazy_gettext

babel = Babel()


def select_locale() -> str | None:
    languages = current_app.config["LANGUAGES"]
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in languages:
        return user_locale
    return request.accept_languages.best_match(languages) if request else None
