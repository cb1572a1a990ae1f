"""Actors that are not web users."""

from dataclasses import dataclass

from registry.enums import Role


@dataclass(frozen=True)
class CommandLineOperator:
    """Whoever runs `flask --app app ...` on the server: has shell access, so acts as an administrator.

    Going through the same service functions (and the same policy) as the web keeps one path;
    the audit log records the actor as 'cli'.
    """

    id: None = None
    email: str = "cli"
    role: Role = Role.ADMIN
    state = None
    is_authenticated: bool = True
    is_active: bool = True


CLI = CommandLineOperator()
