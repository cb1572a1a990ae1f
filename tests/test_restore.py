"""The restore test of a backup: an auditor's bundle loads into an empty registry, on the same backend, with the
same records, versions and audit chain; a tampered bundle or a non-empty registry loads nothing."""

import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry import create_app, migrate
from registry.db import db
from registry.exports import tables
from registry.exports.bundle import build_bundle
from registry.models import AuditEntry, Revision, Submission, User
from tests.conftest import make_test_config
from tests.factories import user


@pytest.fixture
def bundle(app, runner, make_user, tmp_path) -> Path:
    assert runner.invoke(args=["demo-load"]).exit_code == 0
    auditor = make_user("auditor")
    path = tmp_path / "bundle.zip"
    with app.app_context():
        build_bundle(user(auditor.id), path)
        db.session.commit()
    return path


@pytest.fixture
def empty_registry(app, fresh_database_url, tmp_path):
    """A second, migrated and empty registry on the same backend, holding the same audit key."""
    url = fresh_database_url()
    migrate.upgrade(url)
    config = make_test_config(url, tmp_path / "target")
    config["AUDIT_SIGNING_KEY_FILE"] = app.config["AUDIT_SIGNING_KEY_FILE"]
    target = create_app(config)
    yield target
    with target.app_context():
        db.engine.dispose()


def _dumps(application) -> dict[str, bytes]:
    with application.app_context():
        return {t.name: b"".join(tables.dump(t)) for t in tables.tables()}


def _bundled_tables(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name.rsplit("/", 1)[1].removesuffix(".jsonl"): archive.read(name) for name in archive.namelist()
                if "/data/tables/" in name}


def test_a_bundle_restores_the_same_records_versions_and_audit_chain(app, bundle, empty_registry):
    result = empty_registry.test_cli_runner().invoke(args=["restore-bundle", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "audit chain verified" in result.output
    assert _dumps(empty_registry) == _bundled_tables(bundle)  # row for row, column for column
    with app.app_context():
        source = {s.reference: [(r.number, r.snapshot) for r in s.revisions]
                  for s in db.session.scalars(select(Submission))}
    with empty_registry.app_context():
        restored = {s.reference: [(r.number, r.snapshot) for r in s.revisions]
                    for s in db.session.scalars(select(Submission))}
        assert db.session.scalar(select(func.count()).select_from(Revision)) >= len(restored)
        assert db.session.scalar(select(User.password_hash).limit(1)) == tables.UNUSABLE_PASSWORD
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert restored == source and len(restored) >= 7
    verify = empty_registry.test_cli_runner().invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and f"{entries} entries" in verify.output


def test_a_registry_that_is_not_empty_loads_nothing(app, bundle, runner):
    result = runner.invoke(args=["restore-bundle", str(bundle)])
    assert result.exit_code != 0 and "is not empty" in result.output


def test_a_tampered_bundle_loads_nothing(app, bundle, empty_registry, tmp_path):
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as old, zipfile.ZipFile(tampered, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            if name.endswith("data/tables/submissions.jsonl"):
                assert b'"status": "draft"' in data
                data = data.replace(b'"status": "draft"', b'"status": "accepted"', 1)
            new.writestr(name, data)
    result = empty_registry.test_cli_runner().invoke(args=["restore-bundle", str(tampered)])
    assert result.exit_code != 0 and "nothing was loaded" in result.output
    with empty_registry.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
