"""Builders for voluntary visits, driven through the service functions (never the models)."""

from datetime import date, time, timedelta

from registry.db import db, utcnow
from registry.enums import RecordType
from registry.models import Submission, Visit
from registry.services import submissions as workflow
from registry.services import visit_papers, visits
from tests.factories import state, user

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def offer_values(start: date, **overrides) -> dict:
    """A complete offer: an air base near Almaty, two days, answers due ten days before."""
    values = {
        "kind": "air_base", "facility_ru": "Авиабаза Талдыкорган", "facility_zh": "塔尔迪库尔干空军基地",
        "facility_en": "Taldykorgan air base", "unit": "604th air base", "location": "Taldykorgan, Almaty region",
        "latitude": "45.1262", "longitude": "78.4469", "within_border_zone": False, "border_segment": "",
        "start_date": start, "start_time": "09:00", "end_date": start + timedelta(days=1), "end_time": "17:00",
        "programme": "Briefing; flight line; simulator centre; meeting with the commander.",
        "point_of_entry": "Almaty International Airport", "cost_travel": "visiting",
        "cost_local_transport": "host", "cost_accommodation": "host", "cost_interpretation": "host",
        "costs_note": "", "interpret_ru": True, "interpret_zh": True, "interpret_en": False,
        "interpretation_other": "", "invite_all_members": True, "places_each": "2",
        "answer_by": start - timedelta(days=10),
    }
    values.update(overrides)
    return values


def make_offer(filer_id: int, *, host="KZ", days_ahead=60, invitations=None, **overrides) -> Submission:
    """A draft offer, committed."""
    start = utcnow().date() + timedelta(days=days_ahead)
    values = offer_values(start, **overrides)
    if invitations is not None:
        values["invite_all_members"] = False
    data = visits.OfferInput(values=values, invitations=[visits.InvitationInput(state_id=state(code).id, places=n)
                                                         for code, n in (invitations or [])])
    submission = visits.create_offer(user(filer_id), state(host), data)
    db.session.commit()
    return submission


def published_offer(filer_id: int, reviewer_id: int, **kwargs) -> Submission:
    """An offer accepted by the Secretariat: its invitations are out."""
    submission = make_offer(filer_id, **kwargs)
    workflow.submit(user(filer_id), submission)
    workflow.accept(user(reviewer_id), submission)
    db.session.commit()
    return submission


def visit(submission: Submission) -> Visit:
    return visits.visit_of(submission)


def answer(officer_id: int, submission: Submission, decision="accepted", people=2, today=None, **kwargs):
    participants = [visits.ParticipantInput(name=f"Participant {i}", rank="Colonel", post="Air force staff")
                    for i in range(people)]
    row = visits.answer(user(officer_id), visit(submission), decision=decision, participants=participants,
                        today=today, **kwargs)
    db.session.commit()
    return row


def held(filer_id: int, submission: Submission) -> Visit:
    """Record the visit as held on its start day."""
    the_visit = visit(submission)
    visits.mark_held(user(filer_id), the_visit, today=the_visit.start_date)
    db.session.commit()
    return the_visit


def report(filer_id: int, submission: Submission, document=PDF) -> Submission:
    the_visit = visit(submission)
    paper = visit_papers.start_paper(user(filer_id), the_visit, RecordType.VISIT_REPORT)
    visit_papers.update_paper(user(filer_id), paper, text="The visit took place as planned.",
                              held_from=the_visit.start_date, held_to=the_visit.start_date,
                              upload=("report-signed.pdf", document) if document else None)
    db.session.commit()
    return paper


__all__ = ["PDF", "answer", "held", "make_offer", "offer_values", "published_offer", "report", "time", "visit"]
