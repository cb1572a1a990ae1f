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
    # audit trail
    "audit.view": Rule(frozenset({AUDITOR, ADMIN})),
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
