"""The permission policy: for every action, who may do it. One table, read top to bottom.

Service functions call `require(user, action, target)`; templates call `can(...)` to decide
which buttons to show. Record visibility (which rows a user may see) lives in `scoping.py`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from registry.enums import Role
from registry.services.errors import PermissionDenied

ALL_ROLES = frozenset(Role)
OFFICER, SECRETARIAT, AUDITOR, ADMIN = Role.OFFICER, Role.SECRETARIAT, Role.AUDITOR, Role.ADMIN


def _not_self(user, target) -> bool:
    """Administrators cannot lock themselves out or change their own role."""
    return target is None or target.id != user.id


def _files_for_state(user, target) -> bool:
    """Officers file for their own state; the Secretariat files only records it enters on a state's behalf.

    `target` is a submission, or a member state when a new record is being created.
    """
    if target is None:
        return user.role == OFFICER
    if hasattr(target, "entered_on_behalf"):  # a submission
        if user.role == OFFICER:
            return user.state_id == target.state_id
        return bool(target.entered_on_behalf)
    return user.role == SECRETARIAT or user.state_id == target.id  # a member state


def _not_own_submission(user, submission) -> bool:
    """Nobody reviews what they submitted or entered themselves."""
    return submission is None or user.id not in (submission.submitted_by_id, submission.created_by_id)


def _comments_on(user, submission) -> bool:
    return user.role == SECRETARIAT or submission is None or user.state_id == submission.state_id


def _other_state_record(user, submission) -> bool:
    return submission is None or user.state_id != submission.state_id


def _own_state_record(user, submission) -> bool:
    return submission is None or user.state_id == submission.state_id


def _hosts_visit(user, visit) -> bool:
    """The host state's officers manage their visit; the Secretariat only one it entered on the host's behalf."""
    return visit is None or _files_for_state(user, visit.submission)


def _invited_to_visit(user, visit) -> bool:
    """Only an officer of a state invited in the offer in force answers, never the host."""
    return visit is None or (user.state_id != visit.submission.state_id
                             and user.state_id in visit.invited_state_ids)


def _asks_another_state(user, host_state) -> bool:
    return host_state is None or user.state_id != host_state.id


def _hosts_request(user, request) -> bool:
    return request is None or user.state_id == request.host_state_id


def _made_request(user, request) -> bool:
    return request is None or user.state_id == request.requesting_state_id
def _own_account(user, target) -> bool:
    """Only the user themselves reads their notifications and sets their preferences."""
    return target is None or target.id == user.id


@dataclass(frozen=True)
class Rule:
    roles: frozenset
    condition: Callable | None = None  # (user, target) -> bool, for rules that depend on the object


POLICY: dict[str, Rule] = {
    # reference data
    "state.view": Rule(ALL_ROLES),
    "state.change_status": Rule(frozenset({ADMIN})),
    # accounts
    "user.list": Rule(frozenset({ADMIN})),
    "user.view": Rule(frozenset({ADMIN})),
    "user.create": Rule(frozenset({ADMIN})),
    "user.update": Rule(frozenset({ADMIN}), _not_self),
    "user.deactivate": Rule(frozenset({ADMIN}), _not_self),
    "user.reactivate": Rule(frozenset({ADMIN}), _not_self),
    "user.reset_password": Rule(frozenset({ADMIN}), _not_self),
    "account.change_password": Rule(ALL_ROLES),
    "account.end_sessions": Rule(ALL_ROLES),
    "user.reset_second_factor": Rule(frozenset({ADMIN}), _not_self),
    "user.end_sessions": Rule(frozenset({ADMIN}), _not_self),
    "security.settings": Rule(frozenset({ADMIN})),
    # submissions of every record type (the workflow table says which action needs which of these)
    "submission.file": Rule(frozenset({OFFICER, SECRETARIAT}), _files_for_state),
    "submission.review": Rule(frozenset({SECRETARIAT}), _not_own_submission),
    "submission.comment": Rule(frozenset({OFFICER, SECRETARIAT}), _comments_on),
    "submission.comment_internal": Rule(frozenset({SECRETARIAT})),
    "submission.review_queue": Rule(frozenset({SECRETARIAT, AUDITOR})),
    "profiles.manage": Rule(frozenset({ADMIN})),
    # inquiries about notified activities (1996 Shanghai agreement, art. 9)
    "inquiry.ask": Rule(frozenset({OFFICER}), _other_state_record),
    "inquiry.answer": Rule(frozenset({OFFICER}), _own_state_record),
    "inquiry.overdue_list": Rule(frozenset({SECRETARIAT, AUDITOR})),
    # voluntary visits: the offer and the report are submissions ("submission.file"); the rest is here
    "visit.manage": Rule(frozenset({OFFICER, SECRETARIAT}), _hosts_visit),
    "visit.answer": Rule(frozenset({OFFICER}), _invited_to_visit),
    "visit.request": Rule(frozenset({OFFICER}), _asks_another_state),
    "visit.decide_request": Rule(frozenset({OFFICER}), _hosts_request),
    "visit.withdraw_request": Rule(frozenset({OFFICER}), _made_request),
    # exports of what a list shows (scoped like the list); the audit log's export needs "audit.view"
    "export.records": Rule(frozenset({OFFICER, SECRETARIAT, AUDITOR})),
    "export.bundle": Rule(frozenset({AUDITOR})),
    # audit trail
    "audit.view": Rule(frozenset({AUDITOR, ADMIN})),
    # one's own notifications and notification preferences
    "notifications.own": Rule(ALL_ROLES, _own_account),
    # defence-ministry structures: every member state's current chart side by side
    "structure.overview": Rule(frozenset({SECRETARIAT, AUDITOR})),
}


def can(user, action: str, target=None) -> bool:
    rule = POLICY[action]  # an unknown action is a programming error, never a silent "yes"
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role not in rule.roles:
        return False
    return rule.condition is None or rule.condition(user, target)


def require(user, action: str, target=None) -> None:
    if not can(user, action, target):
        raise PermissionDenied(action)
