"""Translation helpers. Every user-facing string goes through `_` (or `_l` where it is evaluated at import)."""

import os

from flask import current_app, has_request_context, request, session
from flask_babel import Babel, gettext, lazy_gettext
from flask_login import current_user

_ = gettext
_l = lazy_gettext

babel = Babel()


def cli_locale(languages) -> str | None:
    """Outside a request (the command line): REGISTRY_LANGUAGE, else the terminal's LANG (ru_RU.UTF-8 -> ru)."""
    for value in (os.environ.get("REGISTRY_LANGUAGE"), os.environ.get("LC_ALL"), os.environ.get("LANG")):
        code = (value or "").split(".")[0].split("_")[0].lower()
        if code in languages:
            return code
    return None


def select_locale() -> str | None:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return cli_locale(languages)
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in languages:
        return user_locale
    if request and session.get("lang") in languages:  # chosen on the sign-in page, before signing in
        return session["lang"]
    return request.accept_languages.best_match(languages) if request else None
