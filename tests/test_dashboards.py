"""Each role's first page: what it must do now, scoped like the lists, with pictures that have tables."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from registry.db import db, utcnow
from registry.enums import RecordType
from registry.models import Submission
from registry.services import charts, dashboards
from registry.services import submissions as svc
from registry.services.profiles import profile_value
from tests.factories import make_calendar, make_submission, state, user
from tests.test_exercise_listing import client_for, make_exercise
from tests.visit_factories import answer, held, published_offer


@pytest.fixture
def people(make_user):
    return {
        "kz": make_user("officer", "KZ"),
        "cn": make_user("officer", "CN"),
        "kg": make_user("officer", "KG"),
        "sec": make_user("secretariat"),
        "auditor": make_user("auditor"),
        "admin": make_user("admin"),
    }


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by `heading_id`."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def this_year(month: int, day: int) -> date:
    return date(utcnow().year, month, day)


# --- signing in lands on the dashboard --------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "heading"), [("officer", "What Kazakhstan must do next"),
                                               ("secretariat", "Secretariat overview"),
                                               ("auditor", "Auditor overview"),
                                               ("admin", "Administrator overview")])
def test_each_role_lands_on_its_own_dashboard_after_signing_in(app, make_user, role, heading):
    from tests.conftest import login

    person = make_user(role, "KZ")
    client = app.test_client()
    response = login(client, person)
    assert response.status_code == 302 and response.location == "/"
    html = client.get("/").get_data(as_text=True)
    assert f"<h1>{heading}</h1>" in html
    assert 'aria-current="page"' in html  # the "Overview" link says where the reader is
    assert '<a class="skip" href="#main">' in html and '<main id="main" tabindex="-1">' in html


# --- liaison officer ------------------------------------------------------------------------------------------------


def test_officer_sees_what_the_state_must_do_with_days_left(app, people):
    kz, cn, sec = people["kz"].id, people["cn"].id, people["sec"].id
    today = utcnow().date()
    with app.app_context():
        _draft_id, draft = make_exercise(kz, sec, "draft", designation_en="Steppe Draft")
        _ret_id, returned = make_exercise(kz, sec, "returned", designation_en="Returned One")
        _soon_id, soon = make_exercise(kz, sec, "submitted", designation_en="Soon Shield",
                                       start_date=today + timedelta(days=12), end_date=today + timedelta(days=15),
                                       late_explanation="Short notice, explained.")
        _far_id, far = make_exercise(kz, sec, "accepted", designation_en="Far Away",
                                     start_date=today + timedelta(days=200), end_date=today + timedelta(days=201))
        # Someone else's draft never shows.
        _cn_id, cn_draft = make_exercise(cn, sec, "draft", "CN", designation_en="Chinese Draft")
        # An invitation from China to every member state, answer due in 20 days.
        offer = published_offer(cn, sec, host="CN", days_ahead=30, answer_by=today + timedelta(days=20))
        offer_ref = offer.reference

    html = client_for(app, people["kz"]).get("/").get_data(as_text=True)
    working = text_of(section(html, "working-h"))
    assert draft in working and returned in working and cn_draft not in html
    assert "Returned for correction" in working and "correct it and submit it again" in working
    answers = text_of(section(html, "answers-h"))
    assert "Taldykorgan air base" in answers and "20 days left" in answers and "2 places" in answers
    soon_part = text_of(section(html, "soon-h"))
    assert "Soon Shield" in soon_part and "starts in 12 days" in soon_part and "Far Away" not in soon_part
    due = text_of(section(html, "due-h"))
    assert f"Annual calendar {today.year + 1}" in due
    assert f"Ministry structure as of 1 January {today.year + 1}" in due
    assert "start it" in due
    assert soon and far and offer_ref

    # Once answered, the invitation leaves the list.
    with app.app_context():
        from registry.models import Submission

        answer(kz, db.session.get(Submission, offer.id))
    html = client_for(app, people["kz"]).get("/").get_data(as_text=True)
    answers = text_of(section(html, "answers-h"))
    assert "Taldykorgan" not in answers and "No invitation waits for your state" in answers


def test_officer_due_dates_show_what_is_filed(app, people):
    kz, sec = people["kz"].id, people["sec"].id
    year = utcnow().year + 1
    with app.app_context():
        calendar = make_calendar(user(kz), "KZ", year=year)
        svc.submit(user(kz), calendar)
        svc.accept(user(sec), calendar)
        db.session.commit()
        reference = calendar.reference
        board = dashboards.officer_dashboard(user(kz))
        item = next(i for i in board.due if i.kind == "calendar" and i.year == year)
        assert item.done and item.submission.reference == reference
        assert item.days_left == (item.due - utcnow().date()).days
        # What is done comes after what is still to do.
        assert board.due[-1].done and not board.due[0].done


def test_officer_never_sees_another_states_unaccepted_records(app, people):
    cn, kg, sec = people["cn"].id, people["kg"].id, people["sec"].id
    soon = utcnow().date() + timedelta(days=3)  # inside the timeline's window, were it shown
    with app.app_context():
        _a, submitted = make_exercise(cn, sec, "submitted", "CN", designation_en="Hidden Submitted",
                                      start_date=soon, end_date=soon + timedelta(days=4))
        _b, draft = make_exercise(cn, sec, "draft", "CN", designation_en="Hidden Draft",
                                  start_date=soon, end_date=soon + timedelta(days=4))
        _c, restricted = make_exercise(cn, sec, "accepted", "CN", visibility="secretariat",
                                       designation_en="Secretariat Only", start_date=soon,
                                       end_date=soon + timedelta(days=4))
        _d, shown = make_exercise(cn, sec, "accepted", "CN", designation_en="Open Exercise",
                                  late_explanation="Explained.", start_date=soon, end_date=soon + timedelta(days=4))
        cal = make_submission(cn, sec, "submitted", "CN")
        kz_board = dashboards.officer_dashboard(user(people["kz"].id))
        assert cal.reference not in {s.reference for s in kz_board.working}
    for person in (people["kz"], people["kg"]):
        html = client_for(app, person).get("/").get_data(as_text=True)
        for hidden in (submitted, draft, restricted, "Hidden Submitted", "Hidden Draft", "Secretariat Only"):
            assert hidden not in html
        assert shown in html and "Open Exercise" in html  # accepted and for members: in the pictures
    assert kg


# --- Secretariat ----------------------------------------------------------------------------------------------------


def test_secretariat_sees_queue_ages_flags_and_the_states_year(app, people):
    kz, cn, sec = people["kz"].id, people["cn"].id, people["sec"].id
    from sqlalchemy import update

    from registry.models import SubmissionEvent

    with app.app_context():
        old_id, old = make_exercise(kz, sec, "submitted", designation_en="Old One",
                                    start_date=this_year(12, 20), end_date=this_year(12, 22))
        db.session.execute(update(SubmissionEvent).where(SubmissionEvent.submission_id == old_id)
                           .values(occurred_at=utcnow() - timedelta(days=20)))
        make_exercise(kz, sec, "accepted", designation_en="Big Mandatory", troops_total=14000,
                      start_date=this_year(12, 24), end_date=this_year(12, 28), observers_invited=True,
                      observer_places_per_state=2, late_explanation="Explained.", not_forecast_reason="New.")
        make_exercise(cn, sec, "accepted", "CN", designation_en="Small", troops_total=100,
                      start_date=this_year(12, 25), end_date=this_year(12, 26))
        calendar = make_calendar(user(cn), "CN", year=utcnow().year)
        svc.submit(user(cn), calendar)
        svc.accept(user(sec), calendar)
        offer = published_offer(kz, sec, host="KZ", days_ahead=1, answer_by=utcnow().date())
        answer(cn, offer)
        held(kz, offer)
        db.session.commit()
        calendar_ref = calendar.reference

        late = db.session.scalar(select(func.count()).select_from(Submission).where(
            Submission.state_id == state("KZ").id, Submission.record_type == RecordType.EXERCISE,
            Submission.status != "draft", Submission.is_late.is_(True)))

    html = client_for(app, people["sec"]).get("/").get_data(as_text=True)
    ages = text_of(section(html, "ages-h"))
    assert "15 days or more 1 overdue" in ages and old in ages
    flagged = text_of(section(html, "flagged-h"))
    assert "Big Mandatory" in flagged and "mandatory" in flagged and "Small" not in flagged
    table = section(html, "states-h")
    kz_row = text_of(re.search(r'<tr>\s*<th scope="row"><abbr title="Kazakhstan">KZ.*?</tr>', table, re.S).group(0))
    # KZ: two notifications of this year filed (late as stored), one visit offered and held, nothing else in.
    assert f"KZ Kazakhstan 2 {2 - late} {late} 1 1 missing missing missing" in kz_row, kz_row
    cn_row = re.search(r'<tr>\s*<th scope="row"><abbr title="China">CN.*?</tr>', table, re.S).group(0)
    assert calendar_ref in cn_row and ">in<" in cn_row
    # Every member state has a row; partners do not.
    assert 'title="Belarus"' in table and 'title="Mongolia"' not in table


def test_constraint_counters_warn_per_state_from_the_rules_module(app, people, monkeypatch):
    """Vienna Document ch. VIII (DOMAIN.md section 3): at most 6 activities above 13,000 troops a year, 3 of them
    above 25,000. Four activities of 30,000 in one year are over the second limit."""
    kz, sec = people["kz"].id, people["sec"].id
    with app.app_context():
        from registry.services import profiles

        profiles.set_in_force(user(people["admin"].id), "vienna_2011", True)
        db.session.commit()
        for day in (1, 5, 9, 13):
            make_exercise(kz, sec, "accepted", designation_en=f"Huge {day}", troops_total=30000,
                          start_date=this_year(12, day), end_date=this_year(12, day + 1),
                          observers_invited=True, observer_places_per_state=2,
                          late_explanation="Explained.", not_forecast_reason="New.")
        board = dashboards.secretariat_dashboard(user(sec))
        kz_row = next(r for r in board.states if r.state.code == "KZ")
        exceeded = [w for w in kz_row.warnings if w["counted"].exceeded]
        assert exceeded and exceeded[0]["counted"].count == 4
        assert all(not r.warnings for r in board.states if r.state.code != "KZ")
    html = client_for(app, people["sec"]).get("/").get_data(as_text=True)
    assert "over the limit" in html and "4 of at most 3 activities" in html


# --- auditor and administrator ----------------------------------------------------------------------------------


def test_auditor_sees_chain_status_recent_activity_and_exports(app, people):
    client = client_for(app, people["auditor"])
    assert client.get("/exports/states.csv").status_code == 200
    with app.app_context():
        from registry.services import audit_checkpoints

        audit_checkpoints.sign_checkpoint()
        db.session.commit()
    html = client.get("/").get_data(as_text=True)
    chain = text_of(section(html, "chain-h"))
    assert "intact" in chain and "entry " in chain and "signed" in chain
    assert "export" in text_of(section(html, "exports-h"))
    assert "user.create" in text_of(section(html, "recent-h"))


def test_admin_sees_accounts_and_who_lacks_a_second_factor(app, people, make_user):
    pending = make_user("auditor", second_factor=False, name="Auditor Without Code")
    html = client_for(app, people["admin"]).get("/").get_data(as_text=True)
    assert "Auditor Without Code" in text_of(section(html, "mfa-h"))
    accounts = text_of(section(html, "accounts-h"))
    assert "Liaison officer 3 0" in accounts and "Auditor 2 0" in accounts
    assert pending.email in html


# --- pictures -----------------------------------------------------------------------------------------------------


def test_pictures_are_svg_with_the_same_numbers_in_tables(app, people):
    kz, cn, sec = people["kz"].id, people["cn"].id, people["sec"].id
    today = utcnow().date()  # starting today: inside this year and the timeline's window whatever the date
    with app.app_context():
        make_exercise(kz, sec, "accepted", designation_en="Steppe Eagle", troops_total=4200,
                      start_date=today, end_date=today + timedelta(days=19), late_explanation="Explained.")
        make_exercise(cn, sec, "accepted", "CN", designation_en="Peace Mission", troops_total=6500,
                      start_date=today, end_date=today + timedelta(days=6), late_explanation="Explained.")
    html = client_for(app, people["sec"]).get("/").get_data(as_text=True)
    pictures = section(html, "pictures-h")
    assert pictures.count("<svg viewBox") == 3 and pictures.count('role="img"') == 3
    assert pictures.count("<table class=\"chart-table\">") == 3
    assert "<script" not in html and "style=" not in html  # the CSP forbids inline script and style
    # The timeline: a bar per exercise labelled with its state; the table gives the dates.
    assert re.search(r'<rect class="bar series-\d+"', pictures)
    assert "KZ · Steppe Eagle" in pictures and (today + timedelta(days=19)).isoformat() in pictures
    # Troops per state and year: the numbers beside the bars and in the table.
    troops = re.search(r'Troops notified as a table.*?</table>', pictures, re.S).group(0)
    # Last year, this year, next year.
    assert re.search(r'<th scope="row">CN</th><td class="num">0</td><td class="num">6,500</td><td class="num">0</td>',
                     troops)
    assert f"{utcnow().year}: 4,200" in pictures


def test_timeliness_reads_the_stored_days_of_notice(app, people):
    kz, sec = people["kz"].id, people["sec"].id
    today = utcnow().date()
    year = today.year + 1
    starts = [date(year, 1, 2), date(year, 6, 1), date(year, 11, 1)]
    with app.app_context():
        for start in starts:
            make_exercise(kz, sec, "accepted", start_date=start, end_date=start + timedelta(days=1),
                          late_explanation="Short notice.")
        required = profile_value("lead_time_days", only_in_force=True)
        late = db.session.scalar(select(func.count()).select_from(Submission).where(Submission.is_late.is_(True)))
        result = charts.build(user(sec), today, "en").timeliness
    days = [(start - today).days for start in starts]
    row = result["rows"][0]
    assert (row["code"], row["count"], row["min"], row["median"], row["max"]) == ("KZ", 3, days[0], days[1], days[2])
    assert row["late"] == late and result["required"] == required
    line = result["lines"][0]
    assert line["x1"] < line["median_x"] < line["x2"] and len(line["marks"]) == 3


# --- bounded queries ------------------------------------------------------------------------------------------------


def count_queries(app, action) -> int:
    with app.app_context():
        engine = db.engine
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


@pytest.mark.parametrize("role", ["officer", "secretariat", "auditor"])
def test_the_dashboard_runs_as_many_queries_for_three_times_the_records(app, people, role):
    kz, cn, sec = people["kz"].id, people["cn"].id, people["sec"].id
    person = {"officer": people["kz"], "secretariat": people["sec"], "auditor": people["auditor"]}[role]
    client = client_for(app, person)
    today = utcnow().date()

    def add_records():
        with app.app_context():
            for code, filer in (("KZ", kz), ("CN", cn)):
                make_exercise(filer, sec, "accepted", code, start_date=today + timedelta(days=20),
                              end_date=today + timedelta(days=22), late_explanation="Explained.")
                make_exercise(filer, sec, "submitted", code, start_date=today + timedelta(days=25),
                              end_date=today + timedelta(days=26), late_explanation="Explained.")
                make_exercise(filer, sec, "draft", code)
            published_offer(cn, sec, host="CN", days_ahead=30)

    add_records()
    first = count_queries(app, lambda: client.get("/"))
    add_records()
    add_records()
    third = count_queries(app, lambda: client.get("/"))
    assert third == first, f"{role}: {first} queries with one set of records, {third} with three"
    assert first < 40


def test_officer_sees_inquiries_and_visit_requests_addressed_to_the_state(app, people):
    kz, cn, kg, sec = people["kz"].id, people["cn"].id, people["kg"].id, people["sec"].id
    with app.app_context():
        from registry.services import inquiries, visit_requests

        sub_id, reference = make_exercise(kz, sec, "accepted", designation_en="Asked About")
        inquiries.ask(user(cn), db.session.get(Submission, sub_id), "Why so close to the border?", emergency=True)
        visit_requests.create_request(user(kg), state("KZ"), facility="Sary-Shagan test range",
                                      purpose="To see the range.")
        db.session.commit()
    html = client_for(app, people["kz"]).get("/").get_data(as_text=True)
    questions = text_of(section(html, "inq-h"))
    assert reference in questions and "China" in questions and "emergency" in questions
    assert "Kyrgyzstan" in text_of(section(html, "answers-h")) and "Sary-Shagan test range" in html
    # The asking state and a third state have nothing to answer.
    for person in (people["cn"], people["kg"]):
        page = client_for(app, person).get("/").get_data(as_text=True)
        assert 'aria-labelledby="inq-h"' not in page
    assert "Sary-Shagan test range" not in client_for(app, people["cn"]).get("/").get_data(as_text=True)


def test_every_picture_has_a_title_a_description_and_labels(app, people):
    kz, sec = people["kz"].id, people["sec"].id
    today = utcnow().date()
    with app.app_context():
        make_exercise(kz, sec, "submitted", designation_en="Pending One", start_date=today + timedelta(days=30),
                      end_date=today + timedelta(days=31), late_explanation="Explained.")
    html = client_for(app, people["sec"]).get("/").get_data(as_text=True)
    svgs = re.findall(r"<svg viewBox.*?</svg>", html, re.S)
    assert len(svgs) == 3
    for svg in svgs:
        title, desc = re.search(r'aria-labelledby="([\w-]+) ([\w-]+)"', svg).groups()
        assert f'<title id="{title}">' in svg and f'<desc id="{desc}">' in svg
    # Not colour alone: a record awaiting review is marked in words and drawn differently.
    assert "KZ (not accepted yet)" in svgs[0] and re.search(r'class="bar series-\d+ pending"', svgs[0])
