"""Who may open which record page: role x record status x endpoint, for exercise notifications.

Records a user may not see answer 404 (never 403, which would confirm they exist).
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from registry.db import db, utcnow
from registry.models import Submission
from registry.services import exercises
from tests.conftest import csrf_token, login
from tests.factories import PATHS, drive, state, user

VIEWERS = ("own", "other_member", "partner", "secretariat", "auditor", "admin")
# status: detail page status per viewer (own, other member, partner, secretariat, auditor, admin)
DETAIL = {
    "draft":     (200, 404, 404, 200, 200, 404),
    "submitted": (200, 404, 404, 200, 200, 404),
    "returned":  (200, 404, 404, 200, 200, 404),
    "accepted":  (200, 200, 404, 200, 200, 404),   # members-only visibility
    "withdrawn": (200, 404, 404, 200, 200, 404),
    "deleted":   (404, 404, 404, 404, 404, 404),
}
# The edit page: only the filing state's officer, only while the version is editable (else back to the record).
EDIT = {
    "draft":     (200, 404, 404, 403, 403, 404),
    "returned":  (200, 404, 404, 403, 403, 404),
    "submitted": (302, 404, 404, 403, 403, 404),
    "accepted":  (302, 403, 404, 403, 403, 404),
}


@pytest.fixture
def people(make_user):
    return {"own": make_user("officer", "KZ"), "other_member": make_user("officer", "CN"),
            "partner": make_user("officer", "MN"), "secretariat": make_user("secretariat"),
            "auditor": make_user("auditor"), "admin": make_user("admin")}


def _record(app, people, status: str) -> str:
    with app.app_context():
        filer, reviewer = user(people["own"].id), user(people["secretariat"].id)
        start = utcnow().date() + timedelta(days=90)
        data = exercises.ExerciseInput(values={
            "designation_ru": "Учение", "exercise_type": "command_post", "area_description": "Polygon",
            "troops_total": "1000", "start_date": start, "end_date": start + timedelta(days=3)})
        record = exercises.create_exercise(filer, state("KZ"), data, visibility="members")
        drive(record, PATHS[status], filer, reviewer)
        db.session.commit()
        return record.reference


@pytest.mark.parametrize("status", list(DETAIL))
@pytest.mark.parametrize("viewer_index", range(len(VIEWERS)), ids=VIEWERS)
def test_detail_page(app, client, people, status, viewer_index):
    reference = _record(app, people, status)
    viewer = VIEWERS[viewer_index]
    login(client, people[viewer])
    response = client.get(f"/exercises/{reference}")
    assert response.status_code == DETAIL[status][viewer_index]
    shortcut = client.get(f"/records/{reference}")
    assert shortcut.status_code == (302 if DETAIL[status][viewer_index] == 200 else 404)


@pytest.mark.parametrize("status", list(EDIT))
@pytest.mark.parametrize("viewer_index", range(len(VIEWERS)), ids=VIEWERS)
def test_edit_page(app, client, people, status, viewer_index):
    reference = _record(app, people, status)
    viewer = VIEWERS[viewer_index]
    login(client, people[viewer])
    response = client.get(f"/exercises/{reference}/edit")
    assert response.status_code == EDIT[status][viewer_index], viewer


@pytest.mark.parametrize("reference", ["EXN\x00", "EXN-2026-0001\x00", "x" * 5000, "%00", "EXN-2026-99999999999"])
def test_references_that_cannot_exist_are_not_found(client, make_user, reference):
    login(client, make_user("secretariat"))
    assert client.get(f"/records/{reference}").status_code == 404
    assert client.get(f"/exercises/{reference}").status_code == 404
    response = client.post(f"/records/{reference}/act/accept", data={"csrf_token": csrf_token(client, "/states/")})
    assert response.status_code == 404


def test_an_unknown_action_is_not_found(app, client, people):
    reference = _record(app, people, "submitted")
    login(client, people["secretariat"])
    token = csrf_token(client, "/states/")
    assert client.post(f"/records/{reference}/act/publish", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/records/{reference}/act/edit", data={"csrf_token": token}).status_code == 404
    assert client.get(f"/records/{reference}/act/accept").status_code == 405


def test_a_forged_or_missing_lock_version_changes_nothing(app, client, people):
    reference = _record(app, people, "submitted")
    login(client, people["secretariat"])
    token = csrf_token(client, f"/exercises/{reference}")
    for lock in (None, "", "abc", "999999999999999999999"):
        data = {"csrf_token": token} | ({} if lock is None else {"lock_version": lock})
        assert client.post(f"/records/{reference}/act/accept", data=data).status_code == 409
    with app.app_context():
        assert db.session.scalar(select(Submission.status)).value == "submitted"
