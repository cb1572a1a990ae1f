"""The language switch on every page: saved in the account when signed in, kept for the session before."""

import pytest
from sqlalchemy import select

from registry.db import db
from registry.models import AuditEntry, User
from tests.conftest import csrf_token, login


def _switch(client, lang, next_url="/states/", page="/login"):
    return client.post("/language", data={"lang": lang, "next": next_url, "csrf_token": csrf_token(client, page)})


def test_a_signed_in_user_chooses_a_language_kept_in_the_account(app, client, make_user):
    officer = make_user("officer", "KZ")
    login(client, officer)
    response = _switch(client, "zh", page="/states/")
    assert response.status_code == 302 and response.location == "/states/"
    assert '<html lang="zh">' in client.get("/states/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, officer.id).locale == "zh"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.set_language"))
        assert entry.changes == {"locale": [None, "zh"]}
    other = app.test_client()  # another browser: the account's choice follows the user
    login(other, officer)
    assert '<html lang="zh">' in other.get("/states/").get_data(as_text=True)


def test_the_sign_in_page_offers_the_switch_for_the_session(client):
    assert 'action="/language"' in client.get("/login").get_data(as_text=True)
    _switch(client, "ru", next_url="/login")
    assert '<html lang="ru">' in client.get("/login").get_data(as_text=True)


def test_the_browser_language_is_the_default(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="zh">' in page


@pytest.mark.parametrize("lang", ["fr", "", "ru\x00", "ru" * 50])
def test_an_unknown_language_changes_nothing(app, client, make_user, lang):
    officer = make_user("officer", "KZ")
    login(client, officer)
    response = _switch(client, lang, page="/states/")
    assert response.status_code == 302
    assert "Choose Russian, Chinese or English." in client.get("/states/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, officer.id).locale is None


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example"])
def test_the_switch_never_redirects_elsewhere(client, target):
    response = _switch(client, "ru", next_url=target)
    assert response.location == "/"


def test_a_switch_without_a_csrf_token_is_refused(app, client, make_user):
    officer = make_user("officer", "KZ")
    login(client, officer)
    client.post("/language", data={"lang": "ru", "next": "/states/"})
    with app.app_context():
        assert db.session.get(User, officer.id).locale is None


@pytest.mark.parametrize("lang", ["ru", "zh", "en"])
def test_dates_are_shown_in_the_readers_language(app, client, make_user, lang):
    from babel.dates import format_date

    from tests import visit_factories as vf

    kz, reviewer = make_user("officer", "KZ"), make_user("secretariat")
    with app.app_context():
        offer = vf.published_offer(kz.id, reviewer.id)
        reference, start = offer.reference, vf.visit(offer).start_date
    login(client, kz)
    _switch(client, lang, page="/states/")
    page = client.get(f"/visits/{reference}").get_data(as_text=True)
    shown = start.isoformat() if lang == "en" else format_date(start, "long", locale=lang)
    assert shown in page
    assert f'datetime="{start.isoformat()}"' in page  # the machine-readable date stays ISO 8601
