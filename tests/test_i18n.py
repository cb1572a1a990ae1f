"""The registry in Russian and Chinese: every user-facing string marked, the catalogs complete and faithful to
their placeholders, and pages in each language free of untranslated English."""

import ast
import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import delete, select

from registry.db import db
from registry.i18n import _l
from registry.models import OutboxMessage, User
from registry.services import notifications
from tests.conftest import csrf_token, login

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = ROOT / "registry" / "translations"
LANGUAGES = ("ru", "zh")
# Text a page may show untranslated: technical names and commands, language names in their own language.
TECHNICAL = {"Русский", "中文", "English", "SHA-256", "CSV", "XLSX", "JSON", "JSONL", "PDF", "UTC", "ISO", "HH:MM",
             "BagIt", "·"}
COMMAND = re.compile(r"^(flask --app app|python3 )")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


# --- every string marked ---------------------------------------------------------------------------------------

def _visible_template_text(source: str) -> list[str]:
    source = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}|<!--.*?-->", " ", source, flags=re.S)
    attributes = re.findall(r'\b(?:title|alt|placeholder|aria-label)="([^"]*)"', source)
    text = re.sub(r"<[^>]*>", "\n", source)
    return [t.strip() for t in text.splitlines() + attributes if t.strip()]


def _unmarked(text: str) -> bool:
    words = text.replace("·", " ").split()
    return bool(re.search(r"[A-Za-z]{2,}", text)) and not COMMAND.match(text) and not all(
        w in TECHNICAL for w in words)


def test_templates_have_no_unmarked_text():
    found = [(str(path.relative_to(ROOT)), text)
             for path in sorted((ROOT / "templates").rglob("*.html"))
             for text in _visible_template_text(path.read_text(encoding="utf-8")) if _unmarked(text)]
    assert found == [], "wrap these in {{ _('...') }}"


def _literal(node) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str) and any(c.isalpha() for c in node.value)
            ) or isinstance(node, ast.JoinedStr)


def _unmarked_calls(tree) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        args = node.args
        receiver = getattr(getattr(func, "value", None), "id", None)
        if name in ("flash", "ValidationError", "Conflict", "InvalidTransition") and args and _literal(args[0]):
            lines.append(node.lineno)
        elif name == "add" and receiver == "errors" and len(args) == 2 and _literal(args[1]):
            lines.append(node.lineno)
        elif name and (name.endswith("Field") or name == "DateText") and args and _literal(args[0]):
            lines.append(node.lineno)
        elif name == "ValidationFailed" and args and isinstance(args[0], ast.Dict):
            if any(isinstance(v, ast.List) and any(_literal(e) for e in v.elts) for v in args[0].values):
                lines.append(node.lineno)
    return lines


def test_python_messages_and_form_labels_are_marked():
    found = [(str(path.relative_to(ROOT)), line) for path in sorted((ROOT / "registry").rglob("*.py"))
             for line in _unmarked_calls(ast.parse(path.read_text(encoding="utf-8")))]
    assert found == [], "wrap these messages and labels in _() or _l()"


def test_the_scanners_find_what_they_look_for():
    """The two scans above fail on the mistakes they are meant to catch."""
    assert _unmarked("Save draft") and not _unmarked("SHA-256") and not _unmarked("flask --app app audit verify")
    tree = ast.parse('flash("Saved")\nerrors.add("x", "Bad")\nStringField("Name")\nflash(_("Saved"))\n'
                     'raise ValidationFailed({"x": ["Bad"]})\n')
    assert _unmarked_calls(tree) == [1, 2, 3, 5]


# --- the catalogs ----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def current_messages(tmp_path_factory) -> dict:
    """The strings marked in the code now (extracted afresh, so a stale catalog cannot hide a new string)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(ROOT / "babel.cfg"),  # noqa: S603
                    "-k", "_l", "-k", "_", "-o", str(pot), str(ROOT)], check=True, capture_output=True, cwd=ROOT)
    with pot.open("rb") as handle:
        return {message.id: message for message in read_po(handle) if message.id}


def _catalog(lang: str):
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalog_translates_every_string_without_fuzzy_entries(current_messages, lang):
    catalog = _catalog(lang)
    missing, fuzzy = [], []
    for msgid in current_messages:
        message = catalog.get(msgid)
        strings = (message.string if isinstance(message.string, tuple) else (message.string,)) if message else ("",)
        if message is None or not all(strings):
            missing.append(msgid)
        elif message.fuzzy:
            fuzzy.append(msgid)
    assert missing == [] and fuzzy == [], f"run `make i18n-update` and translate ({len(missing)} missing)"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_every_placeholder(lang):
    wrong = []
    for message in _catalog(lang):
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[-1]
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for target in targets:
            if target and sorted(PLACEHOLDER.findall(target)) != sorted(PLACEHOLDER.findall(source)) and not (
                    isinstance(message.id, tuple) and "%(num)d" not in target):
                wrong.append((source, target))
    assert wrong == []


# --- pages in each language ------------------------------------------------------------------------------------

PAGES = {
    "officer": ["/states/", "/states/KZ", "/exercises/", "/exercises/new", "/calendars/", "/visits/", "/visits/new",
                "/visits/requests/", "/visits/awaiting", "/structures/", "/exports/", "/notifications/",
                "/notifications/settings", "/profiles/", "/account/sessions"],
    "secretariat": ["/review/", "/calendars/", "/structures/overview", "/visits/", "/exercises/year/2026"],
    "auditor": ["/audit/", "/exports/", "/review/"],
    "admin": ["/admin/users", "/admin/users/new", "/admin/security"],
}


def _page_text(response) -> str:
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]*>", " ", body))


@pytest.mark.parametrize("role", sorted(PAGES))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_pages_in_each_language_show_no_untranslated_english(app, client, make_user, current_messages, lang, role):
    # English sentences of the catalog (three words or more), which must not appear on a translated page.
    english = sorted({m for m in current_messages if isinstance(m, str) and len(re.findall(r"[A-Za-z]{3,}", m)) >= 3
                      and not PLACEHOLDER.search(m)}, key=len, reverse=True)
    person = make_user(role, "KZ")
    login(client, person)
    client.post("/language", data={"lang": lang, "next": "/states/", "csrf_token": csrf_token(client, "/states/")})
    with app.app_context():  # the welcome message was written before the language was chosen: in English
        db.session.execute(delete(OutboxMessage))
        db.session.commit()
    found = {}
    for url in PAGES[role]:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _page_text(response)
        leaks = [sentence for sentence in english if sentence in text]
        if leaks:
            found[url] = leaks[:5]
    assert found == {}


@pytest.mark.parametrize(("lang", "expected"), [("ru", "Запрос по"), ("zh", "询问"), (None, "Inquiry about")])
def test_notifications_are_written_in_the_recipients_language(app, make_user, lang, expected):
    """Whoever causes a message (a Chinese officer's inquiry to a Russian officer), it reads in the recipient's
    language, e-mail and in-app list alike."""
    person = make_user("officer", "RU")
    with app.app_context():
        user = db.session.get(User, person.id)
        user.locale = lang
        notifications.queue(user, "inquiry.ask", _l("Inquiry about %(ref)s", ref="EXN-2026-0001"),
                            _l("A question about %(ref)s is due for an answer by %(due)s.", ref="EXN-2026-0001",
                               due="2026-12-01 10:00 UTC"))
        db.session.commit()
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_id == person.id,
                                                                OutboxMessage.kind == "inquiry.ask"))
        assert expected in message.subject and "EXN-2026-0001" in message.subject
