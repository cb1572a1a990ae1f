"""Translation helpers. Every user-facing string goes through `_` (or `_l` where it is evaluated at import)."""

from flask import current_app, request, session
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
    if request and session.get("lang") in languages:  # chosen on the sign-in page, before signing in
        return session["lang"]
    return request.accept_languages.best_match(languages) if request else None
