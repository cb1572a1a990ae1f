"""Which rows a user may see: one place, reused by every list, page and export.

`visible(user, Model)` returns a `select()` already narrowed to what the user may read; callers
add their filters and ordering to it. A model without a scope rule is refused, not shown.
"""

from sqlalchemy import Select, false, select

from registry.enums import Role
from registry.models import AuditEntry, MemberState, StatusPeriod, User


def _states(user, stmt: Select) -> Select:
    return stmt  # reference data: every signed-in user reads all of it


def _users(user, stmt: Select) -> Select:
    if user.role == Role.ADMIN:
        return stmt
    # Everyone else sees the directory of active liaison officers (name, state), nothing more.
    return stmt.where(User.active.is_(True), User.role == Role.OFFICER)


def _audit(user, stmt: Select) -> Select:
    if user.role in (Role.AUDITOR, Role.ADMIN):
        return stmt
    return stmt.where(false())


SCOPES = {
    MemberState: _states,
    StatusPeriod: _states,
    User: _users,
    AuditEntry: _audit,
}


def visible(user, model) -> Select:
    stmt = select(model)
    if user is None or not getattr(user, "is_authenticated", False):
        return stmt.where(false())
    return SCOPES[model](user, stmt)
