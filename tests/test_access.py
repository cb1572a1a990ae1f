"""Who may reach what: every endpoint is guarded or public by design, and the role x endpoint table holds."""

import pytest
from flask import url_for
from sqlalchemy import func, select

from registry.db import db
from registry.models import AuditEntry, MemberState, StatusPeriod, User
from tests.conftest import audit_actions, csrf_token, fetch, login

PUBLIC_ENDPOINTS = {"auth.login", "core.health", "core.language",
                    # the API's description and its reference page: the interface, no data
                    "api.openapi_json", "api.reference",
                    # the second sign-in step and the forgotten-password link: before anyone is signed in
                    "auth.login_verify", "auth.forgot_password", "auth.reset_password"}
DUMMY_ARGS = {"user_id": 1, "code": "KZ", "reference": "EXN-2000-0001", "action": "comment", "year": 2027,
              "inquiry_id": 1, "kind": "report", "number": 1, "dataset": "states", "fmt": "csv", "key": "U1",
              "job_id": 1, "token": "x" * 43, "token_id": 1}
# Endpoints whose access depends on the record itself (its state, status and visibility): the workflow table
# and the scoping helper decide, and tests/test_record_access.py holds their role x record matrix.
RECORD_ENDPOINTS = {"records.show", "records.act", "exercises.detail", "exercises.edit", "exercises.ask_inquiry",
                    "exercises.answer_inquiry", "calendars.detail", "calendars.edit",
                    # voluntary visits: tests/test_visit_service.py and test_visit_pages.py hold their matrix
                    "visits.detail", "visits.edit", "visits.answer", "visits.postpone", "visits.cancel",
                    "visits.held", "visits.start_paper", "visits.paper_detail", "visits.paper_edit",
                    "visits.paper_document", "visits.request_detail", "visits.decide_request",
                    "visits.withdraw_request",
                    # structure disclosures: tests/test_structure_*.py
                    "structures.detail", "structures.edit", "structures.add_unit", "structures.unit",
                    "structures.import_file"}
# One's own account, open to every signed-in role (tests/test_second_factor.py and test_sessions.py hold them).
SELF_SERVICE_POSTS = {"auth.two_factor_start", "auth.two_factor_confirm", "auth.recovery_codes",
                      "auth.logout_everywhere",
                      # one's own API tokens: tests/test_api_tokens.py
                      "tokens.create", "tokens.revoke"}
ROLES = ("officer", "secretariat", "auditor", "admin")
# Actions every signed-in user may take on their own account; tests/test_notifications.py tests them.
OWN_ACCOUNT_ACTIONS = {"notifications.mark_read"}
# Export jobs: a user's own queued exports and their files, and auditors' bundles; tests/test_export_jobs.py.
EXPORT_JOB_ENDPOINTS = {"exports.new_job", "exports.new_bundle", "exports.job_download"}


def _rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


def _access(app, rule) -> str | None:
    return getattr(app.view_functions[rule.endpoint], "access", None)


def api_endpoints(app) -> set[str]:
    """The JSON API's endpoints guarded by a bearer token and its scope: never a login redirect, a 401 problem;
    tests/test_api_access.py holds their role x endpoint matrix."""
    return {rule.endpoint for rule in _rules(app) if (_access(app, rule) or "").startswith("token:")}


def _guarded_rules(app):
    return [rule for rule in _rules(app) if _access(app, rule) != "public"
            and not (_access(app, rule) or "").startswith("token:")]


def _url(app, rule, **args) -> str:
    with app.test_request_context():
        return url_for(rule.endpoint, **{name: args.get(name, DUMMY_ARGS[name]) for name in rule.arguments})


# --- (a) the URL map: nothing reachable by accident -------------------------------------------------------------


def test_every_endpoint_is_public_by_design_or_guarded(app):
    unguarded = sorted(rule.endpoint for rule in _rules(app)
                       if not getattr(app.view_functions[rule.endpoint], "access", None))
    assert unguarded == [], f"endpoints with neither @public nor a guard: {unguarded}"


def test_public_endpoints_are_exactly_the_known_ones(app):
    public = {rule.endpoint for rule in _rules(app)
              if getattr(app.view_functions[rule.endpoint], "access", None) == "public"}
    assert public == PUBLIC_ENDPOINTS, "a public endpoint was added or removed: update PUBLIC_ENDPOINTS on purpose"


def test_the_url_map_has_the_endpoints_this_file_knows(app):
    """If an endpoint is added, the role matrix below must say who may reach it."""
    known = (PUBLIC_ENDPOINTS | {row[0] for row in PAGE_MATRIX} | {row[0] for row in POST_ACTIONS}
             | {"auth.logout"} | RECORD_ENDPOINTS | OWN_ACCOUNT_ACTIONS
             | EXPORT_JOB_ENDPOINTS | SELF_SERVICE_POSTS | api_endpoints(app))
    actual = {rule.endpoint for rule in _rules(app)}
    assert sorted(actual - known) == [], "new endpoints: add them to PAGE_MATRIX or POST_ACTIONS in this file"
    assert sorted(known - actual) == [], "endpoints gone: remove them from PAGE_MATRIX or POST_ACTIONS"


# --- (b) anonymous visitors are sent to the login page ------------------------------------------------------------


def test_anonymous_requests_to_every_guarded_endpoint_go_to_login(app):
    failures = []
    checked = 0
    for rule in _guarded_rules(app):
        client = app.test_client()
        url = _url(app, rule)
        if "GET" in rule.methods:
            response = client.get(url)
            # Back to the page after signing in.
            expected = url_for_login(app, next=url)
        else:
            response = client.post(url, data={"csrf_token": csrf_token(client, "/login")})
            # A POST-only address would answer the redirect after sign-in with 405: no `next`.
            expected = "/login"
        checked += 1
        if response.status_code != 302 or response.location != expected:
            failures.append(f"{rule.endpoint} {url}: {response.status_code} -> {response.location!r}")
    assert checked >= 12
    assert failures == []
    assert "access.denied" not in audit_actions(app)


def url_for_login(app, **args) -> str:
    with app.test_request_context():
        return url_for("auth.login", **args)


def test_every_guarded_endpoint_was_requested_with_both_kinds_of_method(app):
    """The loop above covers both branches: pages (GET) and POST-only actions."""
    methods = {"GET" in rule.methods for rule in _guarded_rules(app)}
    assert methods == {True, False}


def test_public_endpoints_answer_anonymous_visitors(client):
    assert client.get("/login").status_code == 200
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


# --- (c) the role x endpoint matrix --------------------------------------------------------------------------------

# GET of every page, per role. core.home is each role's dashboard (tests/test_dashboards.py).
PAGE_MATRIX = [
    # endpoint                 officer  secretariat  auditor  admin
    ("states.index",            200,     200,         200,     200),
    ("states.detail",           200,     200,         200,     200),
    ("states.change_status",    403,     403,         403,     200),
    ("admin.users",             403,     403,         403,     200),
    ("admin.user_new",          403,     403,         403,     200),
    ("admin.user_detail",       403,     403,         403,     200),
    ("audit.index",             403,     403,         200,     200),
    ("auth.change_password",    200,     200,         200,     200),
    ("auth.two_factor",         200,     200,         200,     200),
    ("auth.sessions",           200,     200,         200,     200),
    ("tokens.index",            200,     200,         200,     200),
    ("admin.security",          403,     403,         403,     200),
    ("core.home",               200,     200,         200,     200),
    ("exercises.index",         200,     200,         200,     200),
    ("exercises.year",          200,     200,         200,     200),
    ("exercises.feed",          200,     200,         200,     200),
    ("exercises.new",           200,     200,         403,     403),
    ("review.queue",            403,     200,         200,     403),
    ("calendars.index",         200,     200,         200,     200),
    ("calendars.new",           200,     200,         403,     403),
    ("profiles.index",          200,     200,         200,     200),
    ("exports.index",           200,     200,         200,     200),
    ("exports.download",        200,     200,         200,     403),
    ("visits.index",            200,     200,         200,     200),
    ("visits.new",              200,     200,         403,     403),
    ("visits.awaiting",         200,     403,         403,     403),
    ("visits.state_history",    200,     200,         200,     200),
    ("visits.requests",         200,     200,         200,     200),
    ("visits.new_request",      200,     403,         403,     403),
    ("notifications.index",     200,     200,         200,     200),
    ("notifications.settings",  200,     200,         200,     200),
    ("structures.index",        200,     200,         200,     200),
    ("structures.new",          200,     200,         403,     403),
    ("structures.template",     200,     200,         200,     200),
    ("structures.compare_page", 200,     200,         200,     200),
    ("structures.overview",     403,     200,         200,     403),
]

PAGE_CASES = [
    pytest.param(endpoint, role, expected, id=f"{endpoint}-{role}")
    for endpoint, *statuses in PAGE_MATRIX
    for role, expected in zip(ROLES, statuses, strict=True)
]


@pytest.fixture
def other_user(make_user):
    """An account that is not the one signed in: the object of the admin pages and actions."""
    return make_user(role="officer", state="KG", name="Target Officer")


@pytest.mark.parametrize(("endpoint", "role", "expected"), PAGE_CASES)
def test_page_matrix(app, client, login_as, other_user, endpoint, role, expected):
    login_as(role)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    url = _url(app, rule, user_id=other_user.id)

    response = client.get(url)

    assert response.status_code == expected, f"{role} GET {url}"
    html = response.get_data(as_text=True)
    denied = [e for e in _audit(app) if e.action == "access.denied"]
    if expected == 403:
        assert "Your role does not allow this." in html
        assert len(denied) == 1
        assert denied[0].object_id == endpoint and denied[0].outcome == "denied"
        assert denied[0].actor_role == role
    else:
        assert denied == []
    if expected == 200 and response.mimetype == "text/calendar":
        assert html.startswith("BEGIN:VCALENDAR")  # the feed itself, not the login form
    elif expected == 200 and response.mimetype == "text/csv":
        # the export itself, or the structure import template: not the login form
        assert html.startswith("code,iso3,") or html.lstrip("\ufeff").startswith("type,key,parent")
    elif expected == 200:
        assert "Sign out" in html  # the page itself, not the login form


def test_pages_show_their_content_to_allowed_roles(client, login_as, other_user):
    login_as("admin")
    assert "Kazakhstan" in client.get("/states/").get_data(as_text=True)
    assert "Target Officer" in client.get("/admin/users").get_data(as_text=True)
    assert other_user.email in client.get(f"/admin/users/{other_user.id}").get_data(as_text=True)
    assert "user.create" in client.get("/audit/").get_data(as_text=True)


def test_navigation_offers_only_what_the_role_may_open(client, login_as):
    login_as("officer")
    html = client.get("/states/").get_data(as_text=True)
    assert 'href="/admin/users"' not in html
    assert 'href="/audit/"' not in html


# --- POST actions by roles that may not do them ------------------------------------------------------------------


def _audit(app) -> list[AuditEntry]:
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        for entry in entries:
            db.session.expunge(entry)
        return entries


def _user_state(app, user_id: int) -> tuple:
    user = fetch(app, User, user_id)
    return user.active, user.role, user.state_id, user.display_name, user.password_hash, user.version


def _world(app, user_ids) -> tuple:
    """Everything the refused actions could have changed."""
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
        periods = db.session.scalar(select(func.count()).select_from(StatusPeriod))
    return users, periods, [_user_state(app, uid) for uid in user_ids]


# endpoint and the form a browser would send (besides csrf_token): every one is for administrators only.
POST_ACTIONS = [
    ("admin.user_deactivate", {}),
    ("admin.user_reactivate", {}),
    ("admin.user_reset_password", {"password": "someone else's new password"}),
    ("admin.user_detail", {"display_name": "Renamed", "role": "admin", "state_id": ""}),
    ("admin.user_new", {"email": "new.admin@example.org", "display_name": "New Admin", "role": "admin",
                        "state_id": "", "password": "a brand new password"}),
    ("states.change_status", {"status": "observer", "valid_from": "2030-01-01", "source": "made up"}),
    ("profiles.set_in_force", {"in_force": "0"}),
    ("admin.user_reset_second_factor", {}),
    ("admin.security", {"second_factor_for_everyone": "y"}),
    ("admin.user_end_sessions", {}),
    ("admin.end_every_session", {}),
]


@pytest.mark.parametrize("role", ["officer", "secretariat", "auditor"])
@pytest.mark.parametrize(("endpoint", "data"), POST_ACTIONS, ids=[a[0] for a in POST_ACTIONS])
def test_post_actions_are_refused_to_non_admins(app, client, login_as, make_user, role, endpoint, data):
    me = login_as(role)
    inactive = make_user(role="secretariat", active=False)
    target = inactive if endpoint == "admin.user_reactivate" else make_user(role="officer", state="KG")
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and "POST" in r.methods)
    url = _url(app, rule, user_id=target.id)
    before = _world(app, [me.id, target.id, inactive.id])
    audit_before = len(_audit(app))

    response = client.post(url, data={**data, "csrf_token": csrf_token(client, "/states/")})

    assert response.status_code == 403
    assert "Your role does not allow this." in response.get_data(as_text=True)
    assert _world(app, [me.id, target.id, inactive.id]) == before
    new_entries = _audit(app)[audit_before:]
    assert [e.action for e in new_entries] == ["access.denied"]
    assert new_entries[0].actor_id == me.id and new_entries[0].outcome == "denied"
    assert new_entries[0].object_id == endpoint
    assert fetch(app, User, me.id).active  # still signed in and allowed what the role allows
    assert client.get("/states/").status_code == 200


def test_the_same_post_actions_succeed_for_an_admin(app, client, login_as, make_user):
    """The refusals above are about the role, not a broken form: an admin gets through."""
    login_as("admin")
    target = make_user(role="officer", state="KG")
    token = csrf_token(client, "/states/")

    assert client.post(f"/admin/users/{target.id}", data={
        "display_name": "Renamed", "role": "officer", "state_id": str(fetch(app, User, target.id).state_id),
        "version": "1", "csrf_token": token}).status_code == 302
    assert fetch(app, User, target.id).display_name == "Renamed"

    assert client.post(f"/admin/users/{target.id}/password", data={
        "password": "someone else's new password", "csrf_token": token}).status_code == 302
    version = str(fetch(app, User, target.id).version)  # the page carries the version it was built from
    assert client.post(f"/admin/users/{target.id}/deactivate",
                       data={"csrf_token": token, "version": version}).status_code == 302
    assert fetch(app, User, target.id).active is False
    version = str(fetch(app, User, target.id).version)
    assert client.post(f"/admin/users/{target.id}/reactivate",
                       data={"csrf_token": token, "version": version}).status_code == 302
    assert fetch(app, User, target.id).active is True
    assert client.post("/admin/users/new", data={
        "email": "new.admin@example.org", "display_name": "New Admin", "role": "admin", "state_id": "",
        "password": "a brand new password", "csrf_token": token}).status_code == 302
    periods_before = _world(app, [])[1]
    assert client.post("/states/KZ/status", data={
        "status": "observer", "valid_from": "2030-01-01", "source": "made up",
        "csrf_token": token}).status_code == 302
    assert _world(app, [])[1] > periods_before
    actions = audit_actions(app)
    for action in ("user.update", "user.reset_password", "user.deactivate", "user.reactivate", "user.create"):
        assert action in actions
    assert "access.denied" not in actions


# --- administrators cannot lock themselves out or change their own role -----------------------------------------

SELF_ACTIONS = [
    ("deactivate", "/admin/users/{id}/deactivate", {}),
    ("reset_password", "/admin/users/{id}/password", {"password": "my own brand new password"}),
    ("change_role", "/admin/users/{id}", {"display_name": "Self Demoted", "role": "officer", "state_id": "KZ"}),
    ("reactivate", "/admin/users/{id}/reactivate", {}),
]


@pytest.mark.parametrize(("name", "path", "data"), SELF_ACTIONS, ids=[a[0] for a in SELF_ACTIONS])
def test_admin_cannot_change_their_own_account(app, client, login_as, name, path, data):
    me = login_as("admin")
    if data.get("state_id") == "KZ":
        with app.app_context():
            kz = db.session.scalar(select(MemberState.id).where(MemberState.code == "KZ"))
        data = {**data, "state_id": str(kz)}
    before = _user_state(app, me.id)
    audit_before = len(_audit(app))

    response = client.post(path.format(id=me.id), data={**data, "csrf_token": csrf_token(client, "/states/")})

    assert response.status_code == 403
    assert _user_state(app, me.id) == before
    new_entries = _audit(app)[audit_before:]
    assert [e.action for e in new_entries] == ["access.denied"]
    # Still signed in, still an administrator.
    assert client.get("/admin/users").status_code == 200


def test_own_account_page_offers_no_self_changes(client, login_as):
    me = login_as("admin")
    html = client.get(f"/admin/users/{me.id}").get_data(as_text=True)
    assert "You cannot change your own role or access here" in html
    assert f"/admin/users/{me.id}/deactivate" not in html


def test_a_second_admin_can_deactivate_the_first(app, client, login_as, make_user):
    login_as("admin")
    other_admin = make_user(role="admin")
    response = client.post(f"/admin/users/{other_admin.id}/deactivate",
                           data={"csrf_token": csrf_token(client, f"/admin/users/{other_admin.id}"),
                                 "version": str(fetch(app, User, other_admin.id).version)})
    assert response.status_code == 302
    assert fetch(app, User, other_admin.id).active is False
    assert login(app.test_client(), other_admin).status_code == 200
