"""What the shared workflow needs to know about each record type.

A record type registers an adapter that copies its details from one revision to the next, takes
the snapshot stored at submission, and checks a revision before it may be submitted. A type
with no details of its own (a nil report, say) uses the envelope-only adapter.
"""

from typing import Any, Protocol

from registry.enums import RecordType


class RecordAdapter(Protocol):
    def copy_details(self, source, target) -> None: ...

    def snapshot(self, submission, revision) -> dict[str, Any]: ...

    def check(self, submission, revision) -> list[dict[str, Any]]:
        """Findings: dicts with code, severity ('error' blocks submission, 'warning' does not), field, message."""
        ...

    # Optional: `after_transition(actor, submission, action, today)` runs inside the workflow action, after the
    # status changed and the action's event and audit entry were written, in the same transaction (a visit
    # offer sends its invitations when it is accepted).


def envelope_snapshot(submission) -> dict[str, Any]:
    return {
        "reference": submission.reference,
        "record_type": submission.record_type.value,
        "state": submission.state.code,
        "visibility": submission.visibility.value,
        "is_nil": submission.is_nil,
        "due_date": submission.due_date.isoformat() if submission.due_date else None,
        "entered_on_behalf": submission.entered_on_behalf,
        "source_document": submission.source_document,
        "original_language": submission.original_language,
    }


class EnvelopeOnly:
    def copy_details(self, source, target) -> None:
        return None

    def snapshot(self, submission, revision) -> dict[str, Any]:
        return {"envelope": envelope_snapshot(submission)}

    def check(self, submission, revision) -> list[dict[str, Any]]:
        return []


ADAPTERS: dict[RecordType, RecordAdapter] = {}


def register(record_type: RecordType, adapter: RecordAdapter) -> None:
    ADAPTERS[record_type] = adapter


def adapter_for(record_type: RecordType) -> RecordAdapter:
    return ADAPTERS.get(record_type, EnvelopeOnly())


def after_transition(actor, submission, action: str, today) -> None:
    hook = getattr(adapter_for(submission.record_type), "after_transition", None)
    if hook is not None:
        hook(actor, submission, action, today)
