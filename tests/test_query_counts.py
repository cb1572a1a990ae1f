"""SQL statements per page: bounded, and the same whether a page shows a few rows or many (no query per row).

The benchmark (bench/pages.py) times these pages at a million notifications; this test keeps the property that
makes that possible: the list, the record page and the year view send a fixed number of statements.
"""

from datetime import date, timedelta

from registry.db import db
from registry.services import submissions as svc
from registry.services.exercises import ExerciseInput, ParticipantInput, PhaseInput, create_exercise
from tests.conftest import login, sql_statements
from tests.factories import PATHS, drive, state, user

START = date(2031, 5, 10)  # far enough ahead that no notification is late
# Upper bounds seen today plus a little room; a page above them has grown a query.
MAX_LIST, MAX_DETAIL, MAX_YEAR = 10, 20, 10


def values(n: int) -> dict:
    start = START + timedelta(days=n % 20)
    return {"designation_ru": f"Учение {n}", "designation_en": f"Exercise {n}", "exercise_type": "field_training",
            "start_date": start, "end_date": start + timedelta(days=5), "troops_total": 1000 + n,
            "area_description": "Training ground"}


def file(filer_id: int, reviewer_id: int, n: int, status: str = "accepted", code: str = "KZ",
         participants: int = 0, phases: int = 0, comments: int = 0) -> str:
    filer, reviewer = user(filer_id), user(reviewer_id)
    others = [c for c in ("CN", "RU", "KG", "TJ", "UZ", "IN", "PK", "KZ") if c != code]
    data = ExerciseInput(
        values=values(n),
        participants=[ParticipantInput(state(others[k]).id, "participant", "A company", "100")
                      for k in range(participants)],
        phases=[PhaseInput("active", START + timedelta(days=n % 20), START + timedelta(days=n % 20 + 5))
                for _ in range(phases)],
    )
    submission = create_exercise(filer, state(code), data, visibility="members")
    drive(submission, PATHS[status], filer, reviewer)
    for k in range(comments):
        svc.perform(reviewer, submission, "comment", comment=f"Remark {k}")
    db.session.commit()
    return submission.reference


def statements_of(app, client, path: str) -> int:
    """SQL statements sent by one request, after a warm-up request (the session's first touches)."""
    assert client.get(path).status_code == 200
    with sql_statements(app) as sent:
        response = client.get(path)
    assert response.status_code == 200
    return len(sent)


def people(make_user):
    return make_user("officer", "KZ"), make_user("officer", "CN"), make_user("secretariat")


def test_list_and_year_view_send_as_many_statements_for_many_rows_as_for_two(app, make_user):
    kz, cn, sec = people(make_user)
    client = app.test_client()
    assert login(client, kz).status_code == 302
    with app.app_context():
        file(kz.id, sec.id, 1)
        file(cn.id, sec.id, 2, code="CN")
    few_list = statements_of(app, client, "/exercises/")
    few_year = statements_of(app, client, "/exercises/year/2031")
    with app.app_context():
        for n in range(3, 30):
            # Own drafts and submissions, other states' accepted notifications, with participants and phases.
            if n % 3:
                file(kz.id, sec.id, n, status=("draft", "submitted", "accepted")[n % 3], participants=n % 3,
                     phases=1)
            else:
                file(cn.id, sec.id, n, code="CN", participants=2)
    many_list = statements_of(app, client, "/exercises/")
    many_year = statements_of(app, client, "/exercises/year/2031")
    assert few_list == many_list <= MAX_LIST, (few_list, many_list)
    assert few_year == many_year <= MAX_YEAR, (few_year, many_year)


def test_record_page_statements_do_not_grow_with_participants_phases_or_timeline(app, make_user):
    kz, cn, sec = people(make_user)
    own, other = app.test_client(), app.test_client()
    assert login(own, kz).status_code == 302
    assert login(other, cn).status_code == 302
    with app.app_context():
        plain = file(kz.id, sec.id, 1)
        busy = file(kz.id, sec.id, 2, participants=6, phases=3, comments=8)
    for client in (own, other):  # the filing state reads the working version, another state the accepted one
        small = statements_of(app, client, f"/exercises/{plain}")
        large = statements_of(app, client, f"/exercises/{busy}")
        assert small == large <= MAX_DETAIL, (small, large)
