"""The submission workflow as one table: action -> allowed from-states -> to-state -> who.

Every record type (exercise notifications, calendars, visits, structure disclosures) uses this same
table. `who` names a permission in services/permissions.py, where the rule for it is written out.
"""

from dataclasses import dataclass

from registry.enums import SubmissionStatus as S


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[S]
    target: S | None  # None: the status does not change (editing, commenting)
    who: str  # the permission checked, e.g. "submission.file"
    # Where the record goes instead when this is an amendment of an accepted record.
    target_for_amendment: S | None = None
    needs_comment: bool = False


EDITABLE = frozenset({S.DRAFT, S.RETURNED})
LIVE = frozenset(set(S) - {S.DELETED})

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        Transition("edit", EDITABLE, None, "submission.file"),
        Transition("submit", EDITABLE, S.SUBMITTED, "submission.file"),
        # Deleting a never-submitted draft; for an amendment draft it discards the amendment.
        Transition("delete", frozenset({S.DRAFT}), S.DELETED, "submission.file", target_for_amendment=S.ACCEPTED),
        Transition("withdraw", frozenset({S.SUBMITTED, S.RETURNED}), S.WITHDRAWN, "submission.file",
                   target_for_amendment=S.ACCEPTED),
        Transition("accept", frozenset({S.SUBMITTED}), S.ACCEPTED, "submission.review"),
        Transition("return", frozenset({S.SUBMITTED}), S.RETURNED, "submission.review", needs_comment=True),
        Transition("amend", frozenset({S.ACCEPTED}), S.DRAFT, "submission.file"),
        Transition("request_cancellation", frozenset({S.ACCEPTED}), S.CANCELLATION_REQUESTED, "submission.file",
                   needs_comment=True),
        Transition("accept_cancellation", frozenset({S.CANCELLATION_REQUESTED}), S.CANCELLED, "submission.review"),
        Transition("reject_cancellation", frozenset({S.CANCELLATION_REQUESTED}), S.ACCEPTED, "submission.review",
                   needs_comment=True),
        Transition("comment", LIVE, None, "submission.comment", needs_comment=True),
    ]
}


def target_status(transition: Transition, current: S, is_amendment: bool) -> S:
    if transition.target is None:
        return current
    if is_amendment and transition.target_for_amendment is not None:
        return transition.target_for_amendment
    return transition.target


def allowed_actions(status: S) -> list[str]:
    return [action for action, t in TRANSITIONS.items() if status in t.sources]
