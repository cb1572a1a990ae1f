"""The demo data `make run` loads: accounts of every role and records in several workflow states."""

from sqlalchemy import func, select

from registry.db import db
from registry.models import AuditEntry, Submission


def _statuses(app) -> list[tuple[str, str]]:
    with app.app_context():
        return sorted((s.record_type.value, s.status.value) for s in db.session.scalars(select(Submission)))


def test_demo_load_creates_records_through_the_workflow_once(app, runner):
    result = runner.invoke(args=["demo-load"])
    assert result.exit_code == 0, result.output
    assert "demo records: 7 new" in result.output
    statuses = _statuses(app)
    assert ("exercise", "accepted") in statuses
    assert ("exercise", "submitted") in statuses
    assert ("exercise", "draft") in statuses
    assert ("calendar", "accepted") in statuses
    assert ("visit", "accepted") in statuses
    assert ("structure", "accepted") in statuses
    with app.app_context():
        # Made through the services: every acceptance is in the audit log.
        accepted = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                     .where(AuditEntry.action == "submission.accept"))
        assert accepted == 5
        answers = set(db.session.scalars(select(AuditEntry.state_code).where(AuditEntry.action == "visit.answer")))
        assert answers == {"CN", "IN"}
        assert all("[demo]" in (s.revisions[0].snapshot or {}).get("exercise", {}).get("purpose", "[demo]")
                   for s in db.session.scalars(select(Submission)))

    again = runner.invoke(args=["demo-load"])
    assert again.exit_code == 0
    assert "demo records: 0 new" in again.output
    assert _statuses(app) == statuses
