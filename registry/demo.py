"""Demonstration accounts, loaded only when asked (`flask --app app demo-load`); never in production.

Every demo account is flagged `is_demo`, named "Demo ...", and uses the example.org domain, so it
cannot be mistaken for a real liaison officer.
"""

from sqlalchemy import func, select

from registry.db import db
from registry.models import MemberState, User
from registry.services import users as user_service
from registry.services.actors import CLI

DEMO_PASSWORD = "open-steppe-walk-2026"  # noqa: S105 - printed for demo use, never in production

DEMO_USERS = [
    # (e-mail, name, role, state code)
    ("admin@demo.example.org", "Demo administrator", "admin", None),
    ("secretariat@demo.example.org", "Demo reviewer (Secretariat)", "secretariat", None),
    ("secretariat2@demo.example.org", "Demo second reviewer (Secretariat)", "secretariat", None),
    ("auditor@demo.example.org", "Demo auditor", "auditor", None),
    ("officer.kz@demo.example.org", "Demo liaison officer, Kazakhstan", "officer", "KZ"),
    ("officer.cn@demo.example.org", "Demo liaison officer, China", "officer", "CN"),
    ("officer.ru@demo.example.org", "Demo liaison officer, Russia", "officer", "RU"),
    ("officer.kg@demo.example.org", "Demo liaison officer, Kyrgyzstan", "officer", "KG"),
    ("officer.in@demo.example.org", "Demo liaison officer, India", "officer", "IN"),
]


class DemoDataError(RuntimeError):
    """The database lacks what the demo accounts need."""


def load_demo() -> list[User]:
    """Create the demo accounts that do not exist yet (idempotent). Needs the state seeds."""
    states = {s.code: s for s in db.session.scalars(select(MemberState))}
    missing = sorted({code for *_, code in DEMO_USERS if code} - states.keys())
    if missing:
        raise DemoDataError(f"member states {', '.join(missing)} are missing: run the seed command first")
    created = []
    for email, name, role, code in DEMO_USERS:
        exists = db.session.scalar(select(func.count()).select_from(User).where(User.email == email))
        if exists:
            continue
        state_id = states[code].id if code else None
        created.append(
            user_service.create_user(CLI, email=email, display_name=name, role=role, state_id=state_id,
                                     password=DEMO_PASSWORD, is_demo=True,
                                     temporary_password=False)
        )
    return created
