"""The exercise list, the year view and the iCalendar feed: filters, keyset pages, visibility, bad input."""

import re
from datetime import date, timedelta

import icalendar
import pytest
from flask import url_for
from sqlalchemy import event, select, text

from registry.db import db, utcnow
from registry.models import Revision, Submission
from registry.services import exercise_queries as q
from registry.services import submissions as svc
from registry.services.exercises import ExerciseInput, create_exercise, update_exercise
from registry.services.scoping import sees_working_version
from tests.conftest import login
from tests.factories import PATHS, drive, state, user

FAR = date(2031, 5, 10)  # far enough ahead that no notification is late


# --- helpers ---------------------------------------------------------------------------------------------------


def exercise_values(**overrides) -> dict:
    values = {
        "designation_ru": "Учение", "designation_en": "Exercise", "exercise_type": "field_training",
        "start_date": FAR, "end_date": FAR + timedelta(days=10), "troops_total": 1000,
        "area_description": "Training ground",
    }
    values.update(overrides)
    return values


def make_exercise(filer_id: int, reviewer_id: int, status: str = "draft", state_code: str = "KZ",
                  visibility: str = "members", **values) -> tuple[int, str]:
    """Inside an app context: an exercise notification of `state_code` brought to `status`, committed."""
    filer, reviewer = user(filer_id), user(reviewer_id)
    submission = create_exercise(filer, state(state_code), ExerciseInput(values=exercise_values(**values)),
                                 visibility=visibility)
    drive(submission, PATHS[status], filer, reviewer)
    db.session.commit()
    return submission.id, submission.reference


def amend_designation(filer_id: int, submission_id: int, designation_en: str, *, submit: bool = False) -> None:
    """Amend an accepted notification: a new version with another English designation."""
    filer = user(filer_id)
    submission = db.session.get(Submission, submission_id)
    svc.amend(filer, submission)
    update_exercise(filer, submission, ExerciseInput(values=exercise_values(
        designation_en=designation_en, start_date=FAR + timedelta(days=100), end_date=FAR + timedelta(days=101))))
    if submit:
        svc.submit(filer, submission)
    db.session.commit()


def client_for(app, person):
    client = app.test_client()
    assert login(client, person).status_code == 302
    return client


def rows_for(person_id: int, **filters) -> list[str]:
    """References of the first page (up to 500) a user sees with these filters, in order."""
    page = q.exercise_rows(user(person_id), q.ExerciseFilters(**filters), limit=500)
    return [row.submission.reference for row in page.rows]


def listed_references(html: str) -> list[str]:
    return re.findall(r'<td><a href="[^"]*?(EXN-\d{4}-\d{4})">', html)


def feed_events(body: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


@pytest.fixture
def people(make_user):
    return {
        "kz": make_user("officer", "KZ"),
        "kz2": make_user("officer", "KZ"),
        "cn": make_user("officer", "CN"),
        "mn": make_user("officer", "MN"),  # an SCO partner, not a member
        "sec": make_user("secretariat"),
        "auditor": make_user("auditor"),
        "admin": make_user("admin"),
    }


def ids(people):
    return people["kz"].id, people["sec"].id


# --- filters ---------------------------------------------------------------------------------------------------


def test_each_filter_narrows(app, people):
    kz, sec = ids(people)
    cn = people["cn"].id
    with app.app_context():
        _, a = make_exercise(kz, sec, "draft", start_date=date(2031, 5, 10), end_date=date(2031, 5, 20))
        _, b = make_exercise(kz, sec, "submitted", exercise_type="command_post",
                             start_date=date(2031, 6, 1), end_date=date(2031, 6, 5))
        _, c = make_exercise(cn, sec, "accepted", "CN", start_date=date(2031, 12, 28), end_date=date(2032, 1, 3))
        _, d = make_exercise(kz, sec, "draft", start_date=date(2033, 3, 1), end_date=date(2033, 3, 2),
                             troops_total=14000, observers_invited=True)  # mandatory and observers required
        _, e = make_exercise(kz, sec, "draft", is_alert=True, alert_justification="Snap check",
                             start_date=date(2033, 4, 1), end_date=date(2033, 4, 2))
        today = utcnow().date()
        _, late = make_exercise(cn, sec, "submitted", "CN", troops_total=10000, late_explanation="Short notice",
                                not_forecast_reason="Not planned", start_date=today + timedelta(days=10),
                                end_date=today + timedelta(days=12))
        everything = {a, b, c, d, e, late}
        assert set(rows_for(sec)) == everything

        assert set(rows_for(sec, states=("CN",))) == {c, late}
        assert set(rows_for(sec, states=("CN", "KZ"))) == everything
        assert rows_for(sec, types=(q.ExerciseType.COMMAND_POST,)) == [b]
        assert set(rows_for(sec, statuses=(q.SubmissionStatus.SUBMITTED,))) == {b, late}
        assert rows_for(sec, statuses=(q.SubmissionStatus.ACCEPTED,)) == [c]
        # Date ranges keep what overlaps them, ends included.
        assert rows_for(sec, date_from=date(2031, 5, 15), date_to=date(2031, 5, 31)) == [a]
        assert set(rows_for(sec, date_from=date(2031, 5, 20), date_to=date(2031, 6, 1))) == {a, b}
        assert rows_for(sec, date_from=date(2033, 4, 2)) == [e]
        assert set(rows_for(sec, date_to=date(2031, 5, 10))) == {a, late}
        assert rows_for(sec, year=2032) == [c]
        assert set(rows_for(sec, year=2031)) == {a, b, c}
        # Flags.
        assert set(rows_for(sec, mandatory=True)) == {d, late}
        assert rows_for(sec, observers=True) == [d]
        assert rows_for(sec, alert=True) == [e]
        assert rows_for(sec, late=True) == [late]
        # Filters combine.
        assert rows_for(sec, states=("KZ",), year=2031, statuses=(q.SubmissionStatus.DRAFT,)) == [a]


def test_free_text_escapes_wildcards_and_ignores_case(app, people):
    kz, sec = ids(people)
    with app.app_context():
        _, percent = make_exercise(kz, sec, designation_en="Readiness 100% check")
        _, plain = make_exercise(kz, sec, designation_en="Readiness 1000 check")
        _, underscore = make_exercise(kz, sec, designation_en="Under_score")
        _, spaced = make_exercise(kz, sec, designation_en="Under score")
        _, mixed = make_exercise(kz, sec, designation_en="Mixed CASE Storm", designation_ru="Буря")
        _, chinese = make_exercise(kz, sec, designation_zh="和平使命-2031", designation_en="")
        assert rows_for(sec, text="100%") == [percent]
        assert rows_for(sec, text="%") == [percent]
        assert rows_for(sec, text="_") == [underscore]
        assert rows_for(sec, text="under_") == [underscore]
        assert set(rows_for(sec, text="under")) == {underscore, spaced}
        assert rows_for(sec, text="mIXED case") == [mixed]
        assert rows_for(sec, text="STORM") == [mixed]
        assert rows_for(sec, text="Буря") == [mixed]
        assert rows_for(sec, text="和平使命") == [chinese]
        # The reference, in any case.
        assert rows_for(sec, text=plain.lower()) == [plain]
        assert set(rows_for(sec, text="exn-")) == {percent, plain, underscore, spaced, mixed, chinese}


def test_free_text_folds_cyrillic_case(app, people):
    """SQLite's own lower() folds only A-Z; registry/db.py gives it a Unicode one, like PostgreSQL's."""
    kz, sec = ids(people)
    with app.app_context():
        assert db.session.scalar(text("SELECT lower('Ж')")) == "ж"
        _, ref = make_exercise(kz, sec, designation_ru="Мирная миссия")
        assert rows_for(sec, text="МИРНАЯ") == [ref]


def test_filters_from_the_query_string_are_validated(app, people):
    from werkzeug.datastructures import MultiDict

    with app.test_request_context():
        parsed = q.parse_filters(MultiDict([
            ("state", "kz"), ("state", "XX"), ("state", "\x00"), ("state", "K" * 10_000),
            ("type", "live_fire"), ("type", "bogus"), ("status", "deleted"), ("status", "accepted"),
            ("from", "2031-02-30"), ("to", "2031-12-31"), ("year", "99999999999999999999"),
            ("late", "1"), ("mandatory", "maybe"), ("q", "x" * 10_000),
        ]))
        f = parsed.filters
        assert f.states == ("KZ",)
        assert f.types == (q.ExerciseType.LIVE_FIRE,)
        assert f.statuses == (q.SubmissionStatus.ACCEPTED,)
        assert f.date_from is None and f.date_to == date(2031, 12, 31)
        assert f.year is None and f.late is True and f.mandatory is False and f.text == ""
        assert len(parsed.problems) == 7
        assert q.parse_filters(MultiDict([("q", "a\x00b")])).filters.text == ""
        reversed_range = q.parse_filters(MultiDict([("from", "2031-05-02"), ("to", "2031-05-01")]))
        assert reversed_range.filters.date_from is None and reversed_range.problems
        assert q.parse_filters(MultiDict([("year", "2031")])).filters.year == 2031


# --- keyset pages ----------------------------------------------------------------------------------------------


def _expected_order(app, person_id: int, sort: str) -> list[int]:
    """The order written out in Python: key, then id, in the sort's direction; a missing key is the greatest."""
    spec = q.SORTS[sort]
    rows = q.exercise_rows(user(person_id), limit=None, sort="reference").rows
    key = {"start": lambda r: r.details.start_date, "refer": lambda r: r.submission.reference,
           "submi": lambda r: r.submission.submitted_at}[sort[:5]]
    present = sorted((r for r in rows if key(r) is not None), key=lambda r: (key(r), r.submission.id))
    missing = sorted((r for r in rows if key(r) is None), key=lambda r: r.submission.id)
    ordered = [r.submission.id for r in present + missing]
    return ordered[::-1] if spec.descending else ordered


@pytest.mark.parametrize("sort", list(q.SORTS))
def test_keyset_pages_cover_every_row_once_in_order(app, people, sort):
    kz, sec = ids(people)
    with app.app_context():
        for n in range(14):
            start = date(2031, 1, 1) + timedelta(days=(n % 4) * 7)  # many rows share a start date
            status = ("accepted", "submitted", "draft")[n % 3]
            make_exercise(kz, sec, status, start_date=start, end_date=start + timedelta(days=3))
        make_exercise(kz, sec, "draft", start_date="", end_date="")  # no dates yet
        make_exercise(kz, sec, "draft", start_date="", end_date="")
        expected = _expected_order(app, kz, sort)
        assert len(expected) == 16
        seen, cursor, pages = [], None, 0
        while True:
            page = q.exercise_rows(user(kz), after=cursor, limit=3, sort=sort)
            assert not page.cursor_ignored
            seen += [r.submission.id for r in page.rows]
            pages += 1
            cursor = page.next_cursor
            if cursor is None:
                break
            assert pages < 20
        assert seen == expected
        assert pages == 6


def test_bad_cursors_give_the_first_page(app, people):
    kz, sec = ids(people)
    with app.app_context():
        for n in range(3):
            make_exercise(kz, sec, start_date=FAR + timedelta(days=n), end_date=FAR + timedelta(days=n))
        first = [r.submission.id for r in q.exercise_rows(user(kz), limit=2).rows]
        bad = ["garbage", "", "=" * 5, "\x00", "é", "A" * 10_000,
               q.encode_cursor("start_asc", FAR, first[0]),  # a cursor of another sort
               q.encode_cursor("start_desc", "not a date", first[0]),
               q.encode_cursor("start_desc", FAR, 2**63),
               q.encode_cursor("start_desc", FAR, -1),
               q.encode_cursor("submitted_desc", "2031-01-01T00:00:00", 1),  # no time zone
               q.encode_cursor("reference", "a\x00b", 1)]
        for cursor in bad:
            page = q.exercise_rows(user(kz), after=cursor, limit=2)
            assert [r.submission.id for r in page.rows] == first, cursor
            assert page.cursor_ignored == bool(cursor)


def test_list_follows_next_links_and_does_not_query_per_row(app, people):
    kz, sec, cn = people["kz"].id, people["sec"].id, people["cn"].id
    client = client_for(app, people["kz"])
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        for n in range(3):
            make_exercise(kz, sec, start_date=FAR + timedelta(days=n), end_date=FAR + timedelta(days=n))
        make_exercise(cn, sec, "accepted", "CN", visibility="public")
        make_exercise(people["mn"].id, sec, "accepted", "MN", visibility="public")
    client.get("/exercises/")  # warm-up (the session's last_seen_at)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get("/exercises/")
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    assert len(listed_references(response.get_data(as_text=True))) == 5
    few = len(statements)

    with app.app_context():
        for n in range(48):
            start = FAR + timedelta(days=n % 5)
            make_exercise(kz, sec, ("draft", "submitted")[n % 2], start_date=start, end_date=start)
        for _n in range(4):
            make_exercise(cn, sec, "accepted", "CN", visibility="members")
    statements.clear()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get("/exercises/")
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", count)
    html = response.get_data(as_text=True)
    first_page = listed_references(html)
    assert len(first_page) == 50
    assert len(statements) == few, "the number of SQL statements grows with the number of rows"

    match = re.search(r'<a href="([^"]+)" rel="next">', html)
    assert match
    second = client.get(match.group(1).replace("&amp;", "&"))
    second_page = listed_references(second.get_data(as_text=True))
    assert len(second_page) == 7  # 57 rows in all
    assert not set(first_page) & set(second_page)
    assert 'rel="next"' not in second.get_data(as_text=True)


def test_sorting_and_filters_survive_paging_links(app, people):
    kz, sec = ids(people)
    with app.app_context():
        for n in range(55):
            make_exercise(kz, sec, designation_en=f"Steppe {n}", start_date=FAR + timedelta(days=n),
                          end_date=FAR + timedelta(days=n))
    client = client_for(app, people["kz"])
    html = client.get("/exercises/?sort=start_asc&q=steppe&state=KZ").get_data(as_text=True)
    refs = listed_references(html)
    assert len(refs) == 50
    link = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert "sort=start_asc" in link and "q=steppe" in link and "state=KZ" in link
    rest = listed_references(client.get(link).get_data(as_text=True))
    assert len(rest) == 5 and not set(refs) & set(rest)


BAD_QUERIES = [
    "after=garbage", "after=" + "A" * 10_000, "after=%00", "sort=bogus", "sort=start_desc&sort=reference",
    "state=%00", "state=" + "K" * 10_000, "state=XX&state=kz", "type=bogus", "status=deleted",
    "from=0000-00-00", "from=9999-12-31", "to=2031-02-29", "from=2031-05-02&to=2031-05-01", "year=99999999999999999999",
    "year=-1", "year=%00", "late=maybe", "q=%00", "q=" + "x" * 10_000, "q=%25%5F", "q=%E2%80%AE", "q={{7*7}}",
    "q=%3Cscript%3E", "q=%27%3B+DROP+TABLE+submissions%3B--",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_query_strings_never_fail(app, people, query):
    client = client_for(app, people["kz"])
    for path in ("/exercises/", "/exercises/calendar.ics", "/exercises/year/2031"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)
    html = client.get(f"/exercises/?{query}").get_data(as_text=True)
    assert "<script>" not in html
    if "7*7" in query:
        assert "{{7*7}}" in html


def test_years_outside_the_range_are_not_found(client, login_as):
    login_as("officer", "KZ")
    for year in (0, 1989, 2101, 99999999999999999999):
        assert client.get(f"/exercises/year/{year}").status_code == 404
    assert client.get("/exercises/year/-1").status_code == 404
    assert client.get("/exercises/year/1990").status_code == 200
    assert client.get("/exercises/year/2100").status_code == 200


def test_pages_need_a_signed_in_user(client):
    for path in ("/exercises/", "/exercises/year/2031", "/exercises/calendar.ics"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- visibility ------------------------------------------------------------------------------------------------


@pytest.fixture
def cn_records(app, people):
    """China's records in every situation, and one of Kazakhstan, by name."""
    cn, kz, sec = people["cn"].id, people["kz"].id, people["sec"].id
    with app.app_context():
        made = {
            "draft": make_exercise(cn, sec, "draft", "CN", designation_en="CN draft"),
            "submitted": make_exercise(cn, sec, "submitted", "CN", designation_en="CN submitted"),
            "returned": make_exercise(cn, sec, "returned", "CN", designation_en="CN returned"),
            "withdrawn": make_exercise(cn, sec, "withdrawn", "CN", designation_en="CN withdrawn"),
            "secret": make_exercise(cn, sec, "accepted", "CN", "secretariat", designation_en="CN secret"),
            "public": make_exercise(cn, sec, "accepted", "CN", "public", designation_en="CN public"),
            "members": make_exercise(cn, sec, "accepted", "CN", "members", designation_en="CN members old"),
            "amended": make_exercise(cn, sec, "accepted", "CN", "members", designation_en="CN amended old"),
            "cancelled": make_exercise(cn, sec, "cancelled", "CN", "public", designation_en="CN cancelled"),
            "kz_secret": make_exercise(kz, sec, "accepted", "KZ", "secretariat", designation_en="KZ secret"),
            "kz_draft": make_exercise(kz, sec, "draft", "KZ", designation_en="KZ draft"),
        }
        amend_designation(cn, made["members"][0], "CN members NEW")
        amend_designation(cn, made["amended"][0], "CN amended NEW", submit=True)
    return {name: ref for name, (_, ref) in made.items()}


HIDDEN_FROM_OTHERS = ("draft", "submitted", "returned", "withdrawn", "secret")


def test_officer_of_another_member_state_sees_only_accepted_shared_records(app, people, cn_records):
    client = client_for(app, people["kz"])
    html = client.get("/exercises/").get_data(as_text=True)
    listed = set(listed_references(html))
    for name in HIDDEN_FROM_OTHERS:
        assert cn_records[name] not in listed, name
        assert f"CN {name}" not in html
    for name in ("public", "members", "amended", "cancelled", "kz_secret", "kz_draft"):
        assert cn_records[name] in listed, name
    # The accepted version, not the amendment under way, and it reads as accepted.
    assert "CN members old" in html and "CN amended old" in html and "NEW" not in html
    row = re.search(rf'{cn_records["members"]}</a></td>.*?</tr>', html, re.S).group(0)
    assert "Accepted" in row and "Draft" not in row

    year = client.get("/exercises/year/2031").get_data(as_text=True)
    for name in HIDDEN_FROM_OTHERS:
        assert cn_records[name] not in year and f"CN {name}" not in year
    assert cn_records["public"] in year and "CN members old" in year and "NEW" not in year
    # The accepted version's dates: the amendment moved the exercise to August.
    assert "CN members old" in year.split("August 2031")[0] and "CN members" not in year.split("August 2031")[1]

    events = feed_events(client.get("/exercises/calendar.ics").data)
    assert set(events) == {f"{cn_records[n]}@registry" for n in ("public", "members", "amended")}
    assert str(events[f"{cn_records['members']}@registry"]["SUMMARY"]) == "CN members old (CN)"


def test_officer_of_a_partner_state_does_not_see_members_only_records(app, people, cn_records):
    client = client_for(app, people["mn"])
    listed = set(listed_references(client.get("/exercises/").get_data(as_text=True)))
    assert listed == {cn_records["public"], cn_records["cancelled"]}
    year = client.get("/exercises/year/2031").get_data(as_text=True)
    assert cn_records["public"] in year and cn_records["members"] not in year
    events = feed_events(client.get("/exercises/calendar.ics").data)
    assert set(events) == {f"{cn_records['public']}@registry"}


def test_filing_state_sees_its_working_versions(app, people, cn_records):
    client = client_for(app, people["cn"])
    html = client.get("/exercises/").get_data(as_text=True)
    listed = set(listed_references(html))
    assert {cn_records[n] for n in ("draft", "submitted", "returned", "withdrawn", "secret")} <= listed
    assert cn_records["kz_draft"] not in listed and cn_records["kz_secret"] not in listed
    assert "CN members NEW" in html and "CN members old" not in html
    # The feed is of accepted versions only, for the filing state too; and never secretariat-only for officers.
    events = feed_events(client.get("/exercises/calendar.ics").data)
    assert set(events) == {f"{cn_records[n]}@registry" for n in ("public", "members", "amended")}
    assert str(events[f"{cn_records['members']}@registry"]["SUMMARY"]) == "CN members old (CN)"


@pytest.mark.parametrize("role", ["secretariat", "auditor"])
def test_secretariat_and_auditors_see_everything_but_deleted_drafts(app, people, cn_records, role):
    person = people["sec"] if role == "secretariat" else people["auditor"]
    client = client_for(app, person)
    listed = set(listed_references(client.get("/exercises/").get_data(as_text=True)))
    assert listed == set(cn_records.values())
    events = feed_events(client.get("/exercises/calendar.ics").data)
    assert f"{cn_records['secret']}@registry" in events and f"{cn_records['kz_secret']}@registry" in events
    assert f"{cn_records['draft']}@registry" not in events and f"{cn_records['cancelled']}@registry" not in events


def test_administrators_see_public_records_only(app, people, cn_records):
    client = client_for(app, people["admin"])
    listed = set(listed_references(client.get("/exercises/").get_data(as_text=True)))
    assert listed == {cn_records["public"], cn_records["cancelled"]}


def test_status_filter_uses_the_status_the_reader_sees(app, people, cn_records):
    with app.app_context():
        kz = people["kz"].id
        accepted = rows_for(kz, statuses=(q.SubmissionStatus.ACCEPTED,))
        assert cn_records["members"] in accepted and cn_records["amended"] in accepted
        assert not {cn_records["members"], cn_records["amended"]} & set(
            rows_for(kz, statuses=(q.SubmissionStatus.DRAFT, q.SubmissionStatus.SUBMITTED)))
        assert rows_for(kz, states=("CN",), statuses=(q.SubmissionStatus.DRAFT,)) == []


def test_sql_revision_rule_matches_sees_working_version(app, people, cn_records):
    with app.app_context():
        submissions = list(db.session.scalars(select(Submission)))
        for key in ("kz", "cn", "mn", "sec", "auditor", "admin"):
            reader = user(people[key].id)
            joined = db.session.execute(select(Submission.id, Revision.number).join(
                Revision, (Revision.submission_id == Submission.id) & q.reads_revision(reader))).all()
            expected = {(s.id, s.current_revision_no if sees_working_version(reader, s) else s.accepted_revision_no)
                        for s in submissions}
            assert sorted(joined) == sorted((i, n) for i, n in expected if n is not None), key


# --- the iCalendar feed ----------------------------------------------------------------------------------------


def test_feed_has_one_all_day_event_per_accepted_exercise(app, people):
    kz, sec = ids(people)
    with app.app_context():
        _, ref = make_exercise(kz, sec, "accepted", visibility="public", designation_en="Peace Mission 2031",
                               designation_ru="Мирная миссия", designation_zh="和平使命", troops_total=4000,
                               start_date=date(2031, 9, 13), end_date=date(2031, 9, 25),
                               area_description="Donguz training ground, Orenburg; near \"the river\"")
        make_exercise(kz, sec, "submitted", start_date=date(2031, 9, 13), end_date=date(2031, 9, 25))
    client = client_for(app, people["cn"])
    response = client.get("/exercises/calendar.ics?year=2031")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "filename=" in response.headers["Content-Disposition"]
    cal = icalendar.Calendar.from_ical(response.data)
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    events = cal.walk("VEVENT")
    assert len(events) == 1
    ev = events[0]
    assert str(ev["UID"]) == f"{ref}@registry"
    assert ev.decoded("DTSTART") == date(2031, 9, 13)
    assert ev.decoded("DTEND") == date(2031, 9, 26)  # exclusive
    assert str(ev["SUMMARY"]) == "Peace Mission 2031 (KZ)"
    assert str(ev["LOCATION"]) == "Donguz training ground, Orenburg; near \"the river\""
    description = str(ev["DESCRIPTION"])
    assert ref in description and "Kazakhstan" in description and "4000" in description
    assert "Field training exercise" in description
    with app.test_request_context():
        assert str(ev["URL"]) == url_for("exercises.detail", reference=ref, _external=True)
    assert ev["DTSTAMP"]

    # The UID is stable from one fetch to the next; another language gives another summary.
    again = feed_events(client.get("/exercises/calendar.ics?year=2031", headers={"Accept-Language": "ru"}).data)
    assert set(again) == {f"{ref}@registry"}
    assert str(again[f"{ref}@registry"]["SUMMARY"]) == "Мирная миссия (KZ)"


def test_feed_without_dates_given_starts_a_year_back(app, people):
    kz, sec = ids(people)
    today = utcnow().date()
    with app.app_context():
        _, old = make_exercise(kz, sec, "accepted", start_date=date(2020, 1, 1), end_date=date(2020, 1, 5))
        _, recent = make_exercise(kz, sec, "accepted", start_date=today - timedelta(days=30),
                                  end_date=today - timedelta(days=20), late_explanation="Filed afterwards")
        _, coming = make_exercise(kz, sec, "accepted")
    client = client_for(app, people["cn"])
    assert set(feed_events(client.get("/exercises/calendar.ics").data)) == {f"{recent}@registry",
                                                                           f"{coming}@registry"}
    assert set(feed_events(client.get("/exercises/calendar.ics?year=2020").data)) == {f"{old}@registry"}


# --- the pages -------------------------------------------------------------------------------------------------


def test_list_row_shows_the_facts_and_flags(app, people):
    kz, sec = ids(people)
    with app.app_context():
        _, ref = make_exercise(kz, sec, "draft", designation_en="Steppe Shield", designation_ru="Степной щит",
                               exercise_type="live_fire", troops_total=14000, observers_invited=True,
                               start_date=date(2031, 3, 1), end_date=date(2031, 3, 9))
    client = client_for(app, people["kz"])
    html = client.get("/exercises/").get_data(as_text=True)
    row = re.search(rf'{ref}</a></td>.*?</tr>', html, re.S).group(0)
    for expected in ("Steppe Shield", "KZ", "Live-fire exercise", "2031-03-01 – 2031-03-09", "14,000", "Draft",
                     "mandatory", "observers required"):
        assert expected in row, expected
    assert "Степной щит" in client.get("/exercises/", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert 'href="/exercises/year/' in html and 'href="/exercises/calendar.ics' in html
    with app.test_request_context():
        new = f'href="{url_for("exercises.new")}"'
    assert new in html
    for person in ("auditor", "admin"):
        assert new not in client_for(app, people[person]).get("/exercises/").get_data(as_text=True)


def test_year_view_puts_each_exercise_in_the_months_it_overlaps(app, people):
    kz, sec = ids(people)
    with app.app_context():
        _, spanning = make_exercise(kz, sec, designation_en="Winter Bridge", start_date=date(2031, 1, 30),
                                    end_date=date(2031, 3, 2))
        _, december = make_exercise(kz, sec, designation_en="Year End", start_date=date(2031, 12, 30),
                                    end_date=date(2032, 1, 2))
        _, other_year = make_exercise(kz, sec, designation_en="Far Away", start_date=date(2033, 1, 1),
                                      end_date=date(2033, 1, 1))
    client = client_for(app, people["kz"])
    html = client.get("/exercises/year/2031").get_data(as_text=True)
    sections = dict(re.findall(r'<h2 id="month-(\d+)">.*?</h2>(.*?)</section>', html, re.S))
    assert len(sections) == 12
    for month in ("1", "2", "3"):
        assert spanning in sections[month]
    assert spanning not in sections["4"]
    assert december in sections["12"] and "Far Away" not in html
    assert 'href="/exercises/year/2030"' in html and 'href="/exercises/year/2032"' in html
    assert december in client.get("/exercises/year/2032").get_data(as_text=True)
    assert 'href="/exercises/year/1989"' not in client.get("/exercises/year/1990").get_data(as_text=True)
