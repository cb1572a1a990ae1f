"""Demonstration visits: an air-base visit with its invitations out and answers in, and an open request.

Loaded by `flask --app app demo-load` after the demo notifications, through the same service functions as the
pages. Dates are relative to today so the demo never goes stale.
"""

from datetime import timedelta

from sqlalchemy import func, select

from registry.db import db, utcnow
from registry.enums import RecordType
from registry.models import MemberState, Submission, User
from registry.services import submissions as workflow
from registry.services import visit_requests, visits

DEMO_NOTE = "[demo] Demonstration record, not a real visit."


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def load_demo_visits() -> int:
    """Create the demo visits once (nothing happens when any visit offer exists)."""
    if db.session.scalar(select(func.count()).select_from(Submission)
                         .where(Submission.record_type == RecordType.VISIT)):
        return 0
    states = {s.code: s for s in db.session.scalars(select(MemberState))}
    reviewer = _user("secretariat@demo.example.org")
    officer_kz, officer_cn = _user("officer.kz@demo.example.org"), _user("officer.cn@demo.example.org")
    officer_in, officer_ru = _user("officer.in@demo.example.org"), _user("officer.ru@demo.example.org")
    start = utcnow().date() + timedelta(days=50)
    values = {
        "kind": "air_base", "facility_ru": "Авиабаза Талдыкорган (демо)", "facility_zh": "塔尔迪库尔干空军基地（演示）",
        "facility_en": "Taldykorgan air base (demo)", "unit": "604th air base",
        "location": "Taldykorgan, Almaty region",
        "latitude": "45.1262", "longitude": "78.4469", "start_date": start, "start_time": "09:00",
        "end_date": start + timedelta(days=1), "end_time": "17:00",
        "programme": f"Briefing by the commander; the flight line; the simulator centre; a demonstration flight. "
                     f"{DEMO_NOTE}",
        "point_of_entry": "Almaty International Airport", "cost_travel": "visiting", "cost_local_transport": "host",
        "cost_accommodation": "host", "cost_interpretation": "host", "interpret_ru": True, "interpret_zh": True,
        "invite_all_members": True, "places_each": "2", "answer_by": start - timedelta(days=14),
    }
    offer = visits.create_offer(officer_kz, states["KZ"], visits.OfferInput(values=values), language="ru")
    workflow.submit(officer_kz, offer)
    workflow.accept(reviewer, offer)
    the_visit = visits.visit_of(offer)
    visits.answer(officer_cn, the_visit, decision="accepted", participants=[
        visits.ParticipantInput("Wang Lei (demo)", "Senior Colonel", "PLA Air Force staff"),
        visits.ParticipantInput("Li Na (demo)", "Lieutenant Colonel", "Interpreter officer")])
    visits.answer(officer_in, the_visit, decision="declined", participants=[])
    visit_requests.create_request(officer_ru, states["CN"], facility="Naval base (demo)", kind="naval_base",
                                  preferred_from=start + timedelta(days=60), preferred_to=start + timedelta(days=62),
                                  purpose=f"Familiarisation with naval training. {DEMO_NOTE}")
    return 1
