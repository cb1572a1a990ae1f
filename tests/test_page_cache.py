"""The page cache (registry/page_cache.py): a rendered list is served again only while the registry is unchanged,
and only to the same session, in the same language, on the same day, for the same query string."""

import re
from datetime import timedelta

import pytest

from registry.db import utcnow
from registry.page_cache import PageCache
from tests.conftest import login, sql_statements
from tests.test_exercise_pages import client_for, create_via_web, drive, text_of

LIST = "/exercises/"
REFERENCE = re.compile(r'href="/exercises/(EXN-\d{4}-\d+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def page_cache(app):
    cache = app.extensions["page_cache"]
    cache.clear()
    cache.max_bytes = 4 * 1024 * 1024
    yield cache
    cache.max_bytes = 0
    cache.clear()


def rendered(seen: list[str]) -> bool:
    """Whether the request read the notifications (rendered the list) rather than serving it from the cache."""
    return any("exercise_details" in s for s in seen)


def references(response) -> set[str]:
    return set(REFERENCE.findall(response.get_data(as_text=True)))


def file_draft(app, client, **overrides) -> str:
    """A draft filed through the form, and the page it leads to opened (as a browser does: it shows the flash)."""
    reference = create_via_web(app, client, **overrides)
    assert client.get(f"/exercises/{reference}/edit").status_code == 200
    return reference


def test_the_list_is_served_again_until_the_registry_changes(app, client, login_as, page_cache):
    login_as("officer", "KZ")
    first = file_draft(app, client)
    with sql_statements(app) as seen:
        page = client.get(LIST)
    assert rendered(seen) and references(page) == {first}
    with sql_statements(app) as seen:
        again = client.get(LIST)
    assert not rendered(seen), "an unchanged list was rendered again"
    assert again.get_data() == page.get_data()

    second = file_draft(app, client, designation_en="Second exercise")
    with sql_statements(app) as seen:
        after = client.get(LIST)
    assert rendered(seen)
    assert references(after) == {first, second}


def test_the_year_view_is_cached_the_same_way(app, client, login_as, page_cache):
    login_as("officer", "KZ")
    year = f"/exercises/year/{(utcnow() + timedelta(days=60)).year}"
    assert references(client.get(year)) == set()
    with sql_statements(app) as seen:
        assert references(client.get(year)) == set()
    assert not rendered(seen)
    reference = file_draft(app, client)
    assert references(client.get(year)) == {reference}


def test_the_officers_dashboard_is_cached_and_shows_a_new_draft_at_once(app, client, login_as, page_cache):
    login_as("officer", "KZ")
    assert client.get("/").status_code == 200
    with sql_statements(app) as seen:
        assert client.get("/").status_code == 200
    assert len(seen) <= 4, seen  # the sign-in's session, the settings, the registry's version: no dashboard query
    reference = file_draft(app, client)
    assert reference in text_of(client.get("/"))  # "drafts to finish"


def test_a_change_made_by_another_user_shows_at_once(app, client, login_as, make_user, page_cache):
    login_as("officer", "KZ")
    assert references(client.get(LIST)) == set()
    assert references(client.get(LIST)) == set()  # now from the cache

    other, cn_officer = client_for(app, make_user, state_code="CN")
    reference = file_draft(app, other)
    reviewer = make_user("secretariat")
    drive(app, reference, ("submit", cn_officer.id))
    assert references(client.get(LIST)) == set()  # under review: not readable by another state
    drive(app, reference, ("accept", reviewer.id))
    assert references(client.get(LIST)) == {reference}


def test_nothing_is_shared_between_readers_or_sessions(app, client, login_as, make_user, page_cache):
    kz = login_as("officer", "KZ")
    draft = file_draft(app, client)
    assert references(client.get(LIST)) == {draft}

    cn, _ = client_for(app, make_user, state_code="CN")
    assert references(cn.get(LIST)) == set()  # the same address, another reader: never the KZ draft

    # The same officer in a second browser: the page carries that session's own CSRF token, so its forms work.
    second = app.test_client()
    assert login(second, kz).status_code == 302
    page = second.get(LIST)
    assert references(page) == {draft}
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    assert second.post("/logout", data={"csrf_token": token}).status_code == 302
    assert second.get(LIST).status_code == 302  # signed out: the cache is never reached
    assert references(client.get(LIST)) == {draft}  # the first session is untouched


def test_language_and_query_string_are_part_of_the_key(app, client, login_as, page_cache):
    login_as("officer", "KZ")
    reference = file_draft(app, client)
    assert '<html lang="en">' in text_of(client.get(LIST))
    token = CSRF.search(client.get(LIST).get_data(as_text=True)).group(1)
    assert client.post("/language", data={"lang": "ru", "next": LIST, "csrf_token": token}).status_code == 302
    assert '<html lang="ru">' in text_of(client.get(LIST))
    assert references(client.get(LIST + "?q=nothing-like-this")) == set()
    assert references(client.get(LIST)) == {reference}


def test_a_page_with_a_message_is_neither_served_from_nor_kept_in_the_cache(app, client, login_as, page_cache):
    login_as("officer", "KZ")
    client.get(LIST)
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "A message shown once")]
    assert "A message shown once" in text_of(client.get(LIST))
    assert "A message shown once" not in text_of(client.get(LIST))
    assert "A message shown once" not in text_of(client.get(LIST))


def test_a_new_day_renders_the_list_again(app, client, login_as, page_cache, monkeypatch):
    login_as("officer", "KZ")
    client.get(LIST)
    with sql_statements(app) as seen:
        client.get(LIST)
    assert not rendered(seen)
    tomorrow = utcnow() + timedelta(days=1)
    monkeypatch.setattr("registry.page_cache.utcnow", lambda: tomorrow)
    with sql_statements(app) as seen:
        client.get(LIST)
    assert rendered(seen)


def test_with_no_room_the_cache_is_off(app, client, login_as, page_cache):
    page_cache.max_bytes = 0
    login_as("officer", "KZ")
    client.get(LIST)
    with sql_statements(app) as seen:
        client.get(LIST)
    assert rendered(seen)
    assert len(page_cache) == 0


def test_the_cache_keeps_the_most_recently_used_pages_within_its_bytes():
    cache = PageCache(max_bytes=100)
    cache.put(("a",), "a" * 40)
    cache.put(("b",), "b" * 40)
    assert cache.get(("a",)) == "a" * 40  # "a" is now the most recently used
    cache.put(("c",), "c" * 40)
    assert cache.get(("b",)) is None
    assert cache.get(("a",)) == "a" * 40 and cache.get(("c",)) == "c" * 40
    assert cache.size == 80 <= cache.max_bytes
    cache.put(("a",), "A" * 10)  # replaced, not counted twice
    assert cache.size == 50
    cache.put(("huge",), "x" * 101)  # larger than the whole cache: not kept, nothing evicted for it
    assert cache.get(("huge",)) is None and len(cache) == 2
