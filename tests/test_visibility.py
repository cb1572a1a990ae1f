"""Who sees which records and which timeline entries: `visible(user, Submission)` and
`visible(user, SubmissionEvent)`, the one scoping helper every list, page, feed and export uses.

The expectations are written out below as tables, independently of registry/services/scoping.py.
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from registry.db import db
from registry.enums import CommentVisibility
from registry.models import Submission, SubmissionEvent
from registry.services import submissions as svc
from registry.services.scoping import may_read_comment, visible
from tests.factories import PATHS, make_submission, user

VIEWERS = ("KZ", "CN", "MN", "SEC", "AUD", "ADM")
# KZ: a liaison officer of Kazakhstan, the filing state.   CN: an officer of China, a member state.
# MN: an officer of Mongolia, an SCO partner.   SEC: the Secretariat.   AUD: an auditor.   ADM: an administrator.

OWN_ONLY = "KZ SEC AUD"  # drafts and versions under review: the filing state, the Secretariat and auditors
PUBLISHED = {"public": "KZ CN MN SEC AUD ADM", "members": "KZ CN SEC AUD", "secretariat": "KZ SEC AUD"}

# Who sees a record of Kazakhstan, by its status (rows) and the visibility Kazakhstan chose (columns).
SEES = {
    # status                    public                    members               secretariat
    "draft":                  (OWN_ONLY,                  OWN_ONLY,              OWN_ONLY),
    "submitted":              (OWN_ONLY,                  OWN_ONLY,              OWN_ONLY),
    "returned":               (OWN_ONLY,                  OWN_ONLY,              OWN_ONLY),
    "withdrawn":              (OWN_ONLY,                  OWN_ONLY,              OWN_ONLY),
    "accepted":               ("KZ CN MN SEC AUD ADM",    "KZ CN SEC AUD",       "KZ SEC AUD"),
    "cancellation_requested": ("KZ CN MN SEC AUD ADM",    "KZ CN SEC AUD",       "KZ SEC AUD"),
    "cancelled":              ("KZ CN MN SEC AUD ADM",    "KZ CN SEC AUD",       "KZ SEC AUD"),
    "amend_draft":            ("KZ CN MN SEC AUD ADM",    "KZ CN SEC AUD",       "KZ SEC AUD"),
    "amend_submitted":        ("KZ CN MN SEC AUD ADM",    "KZ CN SEC AUD",       "KZ SEC AUD"),
    "deleted":                ("",                        "",                    ""),
}
VISIBILITIES = ("public", "members", "secretariat")

# The timeline entries another state's officer (or an administrator) sees of a record it may read: only the
# decisions that published or cancelled it.
DECISIONS_SEEN_BY_OTHERS = {
    "accepted": ["accept"],
    "cancellation_requested": ["accept"],
    "cancelled": ["accept", "accept_cancellation"],
    "amend_draft": ["accept"],
    "amend_submitted": ["accept"],
}

MATRIX = [(status, visibility) for status in SEES for visibility in VISIBILITIES]


def test_the_tables_cover_every_status():
    assert set(SEES) == set(PATHS)
    assert set(DECISIONS_SEEN_BY_OTHERS) == {s for s, row in SEES.items() if "CN" in row[1]}
    for row in SEES.values():
        for cell in row:
            assert set(cell.split()) <= set(VIEWERS)


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        KZ=make_user("officer", "KZ"),
        CN=make_user("officer", "CN"),
        MN=make_user("officer", "MN"),
        SEC=make_user("secretariat"),
        AUD=make_user("auditor"),
        ADM=make_user("admin"),
    )


def _record(people, status: str, visibility: str) -> Submission:
    """A record of Kazakhstan in `status`, with an internal and a shared Secretariat comment and the filer's."""
    record = make_submission(people.KZ.id, people.SEC.id, status, "KZ", visibility)
    if status != "deleted":
        reviewer, filer = user(people.SEC.id), user(people.KZ.id)
        svc.add_comment(reviewer, record, comment="Internal: check the troop figures with the RU desk.",
                        comment_visibility="internal")
        svc.add_comment(reviewer, record, comment="Please add the arrival point for observers.",
                        comment_visibility="shared")
        svc.add_comment(filer, record, comment="Arrival point: Almaty.")
        db.session.commit()
    return record


def _sees_record(viewer, record) -> bool:
    return db.session.scalar(visible(viewer, Submission).where(Submission.id == record.id)) is not None


def _events_seen(viewer, record) -> list[SubmissionEvent]:
    stmt = visible(viewer, SubmissionEvent).where(SubmissionEvent.submission_id == record.id)
    return list(db.session.scalars(stmt.order_by(SubmissionEvent.id)))


@pytest.mark.parametrize(("status", "visibility"), MATRIX)
def test_who_sees_a_record_of_kazakhstan(app, people, status, visibility):
    with app.app_context():
        record = _record(people, status, visibility)
        expected = set(SEES[status][VISIBILITIES.index(visibility)].split())
        seen = {key for key in VIEWERS if _sees_record(user(getattr(people, key).id), record)}
        assert seen == expected, f"{status}/{visibility}: seen by {sorted(seen)}, expected {sorted(expected)}"


@pytest.mark.parametrize(("status", "visibility"), MATRIX)
def test_which_timeline_entries_each_reader_sees(app, people, status, visibility):
    with app.app_context():
        record = _record(people, status, visibility)
        readers = set(SEES[status][VISIBILITIES.index(visibility)].split())
        every = [e.id for e in record.events]
        not_internal = [e.id for e in record.events if e.comment_visibility != CommentVisibility.INTERNAL]
        decisions = [e.id for e in record.events if e.action in DECISIONS_SEEN_BY_OTHERS.get(status, [])]
        assert status == "deleted" or len(not_internal) == len(every) - 1  # the one internal comment
        expected = {
            "SEC": every, "AUD": every,  # everything, internal comments included
            "KZ": not_internal,  # the filing state: everything but the Secretariat's internal comments
            "CN": decisions, "MN": decisions, "ADM": decisions,
        }
        for key in VIEWERS:
            seen = [e.id for e in _events_seen(user(getattr(people, key).id), record)]
            want = expected[key] if key in readers else []
            assert seen == want, f"{key} on {status}/{visibility}: {seen} instead of {want}"
        if status in DECISIONS_SEEN_BY_OTHERS and "CN" in readers:
            seen_actions = [e.action for e in _events_seen(user(people.CN.id), record)]
            assert seen_actions == DECISIONS_SEEN_BY_OTHERS[status]


def test_officers_never_see_internal_comments(app, people):
    with app.app_context():
        record = _record(people, "accepted", "public")
        assert any(e.comment_visibility == CommentVisibility.INTERNAL for e in record.events)
        for key in ("KZ", "CN", "MN"):
            seen = _events_seen(user(getattr(people, key).id), record)
            assert all(e.comment_visibility != CommentVisibility.INTERNAL for e in seen), key
        assert any(e.comment_visibility == CommentVisibility.INTERNAL
                   for e in _events_seen(user(people.SEC.id), record))


@pytest.mark.parametrize("visibility", ["internal", "shared"])
def test_a_comment_on_a_decision_is_read_only_by_those_it_is_meant_for(app, people, visibility):
    """The decision itself is on everyone's timeline; its comment only for whom it was written."""
    with app.app_context():
        record = make_submission(people.KZ.id, people.SEC.id, "submitted", "KZ", "public")
        svc.accept(user(people.SEC.id), record, comment="Figures checked against the RU note.",
                   comment_visibility=visibility)
        db.session.commit()
        readers = {"KZ": visibility == "shared", "CN": False, "MN": False, "ADM": False, "SEC": True, "AUD": True}
        for key, may_read in readers.items():
            viewer = user(getattr(people, key).id)
            [accept] = [e for e in _events_seen(viewer, record) if e.action == "accept"]
            assert may_read_comment(viewer, accept) is may_read, key


def test_an_officer_sees_the_own_states_drafts_and_never_another_states(app, people):
    """The symmetric case: China's secretariat-only draft is China's business, not Kazakhstan's."""
    with app.app_context():
        chinese = make_submission(people.CN.id, people.SEC.id, "draft", "CN", "secretariat")
        kazakh = make_submission(people.KZ.id, people.SEC.id, "draft", "KZ", "secretariat")
        kz_officer, cn_officer = user(people.KZ.id), user(people.CN.id)
        kz_sees = set(db.session.scalars(visible(kz_officer, Submission).with_only_columns(Submission.id)))
        cn_sees = set(db.session.scalars(visible(cn_officer, Submission).with_only_columns(Submission.id)))
        assert kz_sees == {kazakh.id} and cn_sees == {chinese.id}
        kz_events = {e.submission_id for e in db.session.scalars(visible(kz_officer, SubmissionEvent))}
        assert kz_events == {kazakh.id}


def test_nobody_signed_in_sees_nothing(app, people):
    with app.app_context():
        make_submission(people.KZ.id, people.SEC.id, "accepted", "KZ", "public")
        assert db.session.scalars(visible(None, Submission)).all() == []
        assert db.session.scalars(visible(None, SubmissionEvent)).all() == []
        assert len(db.session.scalars(select(Submission)).all()) == 1  # the record exists, it is only hidden
