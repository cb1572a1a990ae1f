"""Reference data: the SCO's member states and partners, loaded idempotently from seeds/states.toml."""

from datetime import date

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.enums import StateStatus
from registry.models import AuditEntry, MemberState, StatusPeriod
from registry.services import states as state_service
from registry.services.states import SEEDS_DIR, SeedError, read_state_seeds

MEMBERS = {"CN", "IN", "IR", "KZ", "KG", "PK", "RU", "TJ", "UZ", "BY"}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_second_seed_run_changes_nothing(app):
    with app.app_context():
        before = (_count(MemberState), _count(StatusPeriod), _count(AuditEntry))
        counts = state_service.load_state_seeds()
        db.session.commit()
        assert counts == {"created": 0, "updated": 0}
        assert (_count(MemberState), _count(StatusPeriod), _count(AuditEntry)) == before


def test_members_and_partners_today(app):
    with app.app_context():
        states = db.session.scalars(select(MemberState)).all()
        today = date(2026, 11, 27)
        members = {s.code for s in states if s.status_on(today) == StateStatus.MEMBER}
        partners = {s.code for s in states if s.status_on(today) == StateStatus.PARTNER}
        assert members == MEMBERS
        assert len(partners) == 17
        assert "LA" in partners


def test_every_state_has_three_names_and_a_sourced_history(app):
    with app.app_context():
        for state in db.session.scalars(select(MemberState)):
            assert state.name_en and state.name_ru and state.name_zh, state.code
            assert any("\u0400" <= ch <= "\u04ff" for ch in state.name_ru), state.code
            assert any("\u4e00" <= ch <= "\u9fff" for ch in state.name_zh), state.code
            assert all(p.source for p in state.status_periods), state.code
            assert sum(p.valid_to is None for p in state.status_periods) == 1, state.code


@pytest.mark.parametrize(
    ("code", "day", "status"),
    [
        ("IN", date(2017, 6, 8), StateStatus.OBSERVER),
        ("IN", date(2017, 6, 9), StateStatus.MEMBER),
        ("IR", date(2023, 7, 4), StateStatus.MEMBER),
        ("BY", date(2024, 7, 3), StateStatus.OBSERVER),
        ("BY", date(2024, 7, 4), StateStatus.MEMBER),
        ("MN", date(2020, 1, 1), StateStatus.OBSERVER),
        ("TR", date(2020, 1, 1), StateStatus.DIALOGUE_PARTNER),
        ("TR", date(2025, 9, 1), StateStatus.PARTNER),
        ("LA", date(2025, 8, 1), None),
        ("CN", date(2000, 1, 1), None),
    ],
)
def test_status_history_dates(app, code, day, status):
    with app.app_context():
        state = db.session.scalar(select(MemberState).where(MemberState.code == code))
        assert state.status_on(day) == status


def test_former_observers_and_dialogue_partners(app):
    with app.app_context():
        states = {s.code: s for s in db.session.scalars(select(MemberState))}
        assert states["AF"].former_statuses == [StateStatus.OBSERVER]
        assert states["MN"].former_statuses == [StateStatus.OBSERVER]
        assert states["EG"].former_statuses == [StateStatus.DIALOGUE_PARTNER]
        assert states["LA"].former_statuses == []


def test_a_corrected_seed_file_updates_and_is_audited(app, tmp_path):
    text = (SEEDS_DIR / "states.toml").read_text(encoding="utf-8")
    (tmp_path / "states.toml").write_text(text.replace('name_en = "Laos"', 'name_en = "Lao PDR"'), encoding="utf-8")
    with app.app_context():
        counts = state_service.load_state_seeds(tmp_path / "states.toml")
        db.session.commit()
        assert counts == {"created": 0, "updated": 1}
        entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry.action == "state.seed" and entry.object_id == "LA"
        assert entry.changes["name_en"] == ["Laos", "Lao PDR"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('code = "KG"', 'code = "KZ"', "duplicate"),
        ('name_zh = "老挝"', 'name_zh = ""', "name_zh"),
        ('from = 2001-06-15\nsource = "Founding member, Shanghai, 15 June 2001 [v]"\n\n[[state]]\ncode = "KZ"',
         'from = 2001-06-15\nto = 2001-06-16\nsource = "x"\n\n[[state]]\ncode = "KZ"', "open-ended"),
    ],
)
def test_a_broken_seed_file_is_refused_whole(app, tmp_path, old, new, message):
    text = (SEEDS_DIR / "states.toml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "states.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SeedError, match=message):
        read_state_seeds(tmp_path / "states.toml")
