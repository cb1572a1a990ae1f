"""The migrations, run on an empty database of the backend under test, yield exactly the models."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from registry import migrate
from registry.db import Base


def _diff(url: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_matches_the_models(fresh_database_url):
    url = fresh_database_url()
    migrate.upgrade(url)
    assert _diff(url) == []
    assert set(Base.metadata.tables) <= _tables(url)


def test_downgrade_to_base_and_up_again(fresh_database_url):
    url = fresh_database_url()
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    assert _tables(url) <= {"alembic_version"}
    migrate.upgrade(url)
    assert _diff(url) == []
    engine = sa.create_engine(url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision(url)
    finally:
        engine.dispose()


def test_an_empty_database_differs_from_the_models(fresh_database_url):
    """Guards the check above: compare_metadata does see missing tables."""
    url = fresh_database_url()
    assert any(op[0] == "add_table" for op in _diff(url))


def test_revision_files_are_date_prefixed_and_reversible():
    files = sorted(p.name for p in (migrate.MIGRATIONS_DIR / "versions").glob("*.py"))
    assert files
    for name in files:
        assert name[:4].isdigit() and name[4] == "_", name
        source = (migrate.MIGRATIONS_DIR / "versions" / name).read_text()
        body = source.split("def downgrade() -> None:", 1)[1]
        assert body.strip() != "pass", f"{name} has no real downgrade()"


def test_db_revision_writes_an_empty_migration_when_the_models_are_unchanged(app, runner, tmp_path, monkeypatch):
    """`flask db revision` autogenerates from the models; at head nothing differs, so its upgrade() is empty."""
    import shutil

    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, copy)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", copy)
    before = set((copy / "versions").glob("*.py"))
    result = runner.invoke(args=["db", "revision", "-m", "nothing changed"])
    assert result.exit_code == 0, result.output
    [new] = set((copy / "versions").glob("*.py")) - before
    assert new.name[:4].isdigit() and "nothing_changed" in new.name
    upgrade = new.read_text().split("def upgrade() -> None:", 1)[1].split("def downgrade", 1)[0]
    code = [line.strip() for line in upgrade.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert code == ["pass"]


def test_upgrading_a_database_with_records_keeps_them(app, fresh_database_url, runner):
    """A batch migration recreates tables on SQLite; the child rows (revisions, events) must survive it."""
    url = fresh_database_url()
    migrate.upgrade(url, "0003")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO member_states (id, code, iso3, name_en, name_ru, name_zh) "
                "VALUES (1, 'KZ', 'KAZ', 'Kazakhstan', 'Казахстан', '哈萨克斯坦')"))
            connection.execute(sa.text(
                "INSERT INTO submissions (id, record_type, reference, state_id, status, visibility, is_nil, is_late, "
                "entered_on_behalf, original_language, created_at, current_revision_no, lock_version) VALUES "
                "(1, 'exercise', 'EXN-2026-0001', 1, 'draft', 'members', false, false, false, 'ru', "
                "CURRENT_TIMESTAMP, 1, 1)"))
            connection.execute(sa.text(
                "INSERT INTO revisions (id, submission_id, number, created_at, language) "
                "VALUES (1, 1, 1, CURRENT_TIMESTAMP, 'ru')"))
            connection.execute(sa.text(
                "INSERT INTO submission_events (submission_id, revision_no, action, actor_label, occurred_at) "
                "VALUES (1, 1, 'create', 'x', CURRENT_TIMESTAMP)"))
        migrate.upgrade(url)
        with engine.connect() as connection:
            counts = [connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                      for t in ("submissions", "revisions", "submission_events")]
        assert counts == [1, 1, 1]
    finally:
        engine.dispose()
