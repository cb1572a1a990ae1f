"""Export jobs and bundles: written whole by a worker, claimed once, failures shown with their reason; the signed
BagIt bundle verified by the stand-alone verifier it carries, which detects changed, missing and added files."""

import hashlib
import io
import subprocess
import sys
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from registry.db import db, utcnow
from registry.models import AuditEntry, ExportJob
from registry.services import export_jobs
from tests.conftest import csrf_token, login
from tests.factories import fill_the_disk_after_first_write, user
from tests.test_exercise_listing import make_exercise

VERIFIER = Path(__file__).resolve().parents[1] / "tools" / "verify_audit.py"


@pytest.fixture(autouse=True)
def empty_export_dir(app):
    """Each test starts with no export files (the directory belongs to the whole test run)."""
    import shutil

    shutil.rmtree(app.config["EXPORT_DIR"], ignore_errors=True)


@pytest.fixture
def people(make_user):
    return {"kz": make_user("officer", "KZ"), "reviewer": make_user("secretariat"),
            "auditor": make_user("auditor"), "auditor2": make_user("auditor")}


@pytest.fixture
def exercises(app, people):
    with app.app_context():
        return [make_exercise(people["kz"].id, people["reviewer"].id, status, "KZ")[1]
                for status in ("accepted", "accepted", "submitted", "draft")]


def _client(app, person):
    client = app.test_client()
    assert login(client, person).status_code == 302
    return client


def _run(app) -> int:
    with app.app_context():
        return export_jobs.run_pending()


def _jobs(app) -> list[ExportJob]:
    with app.app_context():
        rows = list(db.session.scalars(select(ExportJob).order_by(ExportJob.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_a_queued_export_is_written_whole_and_downloaded_by_its_requester_only(app, people, exercises):
    client = _client(app, people["auditor"])
    response = client.post("/exports/jobs", data={"dataset": "exercises", "fmt": "csv", "filters": "state=KZ",
                                                  "csrf_token": csrf_token(client, "/exports/")})
    assert response.status_code == 302
    assert "queued" in client.get("/exports/").get_data(as_text=True)
    assert _run(app) == 1
    job = _jobs(app)[0]
    assert job.status == "done" and job.rows_done == 4 == job.rows_total
    with client.get(f"/exports/jobs/{job.id}/file") as download:
        assert download.status_code == 200
        assert hashlib.sha256(download.data).hexdigest() == job.sha256 == download.headers["X-Checksum-SHA256"]
        assert download.data.decode().count("\r\n") == 5  # header and four rows
    assert _client(app, people["auditor2"]).get(f"/exports/jobs/{job.id}/file").status_code == 404
    assert not list(Path(app.config["EXPORT_DIR"]).glob(".*.part"))


def test_a_failing_job_is_marked_failed_and_says_why(app, people, exercises, monkeypatch):
    fill_the_disk_after_first_write(monkeypatch)
    with app.app_context():
        export_jobs.request_dataset(user(people["auditor"].id), "exercises", "csv", MultiDict())
        db.session.commit()
    _run(app)
    job = _jobs(app)[0]
    assert job.status == "failed" and "No space left on device" in job.error and job.file_name is None
    page = _client(app, people["auditor"]).get("/exports/").get_data(as_text=True)
    assert "No space left on device" in page
    assert list(Path(app.config["EXPORT_DIR"]).iterdir()) == []  # nothing half-written is left to be offered
    with app.app_context():  # the export itself was not recorded as made
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "export.create")) is None


def test_two_workers_never_take_the_same_job(app, people, exercises):
    with app.app_context():
        for _ in range(6):
            export_jobs.request_dataset(user(people["auditor"].id), "states", "json", MultiDict())
        db.session.commit()
    taken: list[int] = []
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                while (job := export_jobs.claim_next(worker=name)) is not None or _queued():
                    if job is not None:
                        taken.append(job.id)
                        export_jobs.run(job)
            finally:
                db.session.remove()

    def _queued() -> bool:
        return db.session.scalar(select(ExportJob.id).where(ExportJob.status == "queued").limit(1)) is not None

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(set(taken)) and len(taken) == 6
    assert {job.status for job in _jobs(app)} == {"done"}


def test_files_past_their_keeping_time_are_removed(app, people, exercises):
    with app.app_context():
        export_jobs.request_dataset(user(people["auditor"].id), "states", "csv", MultiDict())
        db.session.commit()
    _run(app)
    job = _jobs(app)[0]
    path = Path(app.config["EXPORT_DIR"]) / job.file_name
    assert path.is_file()
    with app.app_context():
        row = db.session.get(ExportJob, job.id)
        row.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert export_jobs.remove_expired() == 1
    assert not path.exists() and _jobs(app)[0].status == "expired"


# --- bundles -----------------------------------------------------------------------------------------------


def _bundle(app, client) -> Path:
    response = client.post("/exports/bundle", data={"csrf_token": csrf_token(client, "/exports/")})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    _run(app)
    job = _jobs(app)[-1]
    assert job.status == "done", job.error
    return Path(app.config["EXPORT_DIR"]) / job.file_name


def _verify(path: Path, *extra) -> subprocess.CompletedProcess:
    """The verifier as an auditor runs it: isolated from the registry (python -I, another directory)."""
    return subprocess.run([sys.executable, "-I", str(VERIFIER), "--bundle", str(path), *extra],  # noqa: S603
                          capture_output=True, text=True, cwd=path.parent, timeout=120)


def _rewrite(source: Path, target: Path, change) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        files = {name: old.read(name) for name in old.namelist()}
        for name, data in change(files).items():
            new.writestr(name, data)
    return target


def test_the_bundle_holds_every_dataset_and_verifies_on_its_own(app, people, exercises):
    path = _bundle(app, _client(app, people["auditor"]))
    with zipfile.ZipFile(path) as archive:
        names = {n.split("/", 1)[1] for n in archive.namelist()}
        root = archive.namelist()[0].split("/", 1)[0]
        record = archive.read(f"{root}/export.json").decode()
    assert {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt", "export.json",
            "export.json.sig", "verify_audit.py", "data/exercises.jsonl", "data/audit-log.jsonl",
            "data/states.jsonl"} <= names
    assert '"data/exercises.jsonl":4' in record and '"previous_export_signature":null' in record
    result = _verify(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: bundle intact and signed" in result.stdout and "audit log: OK" in result.stdout
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.bundle"))
        assert entry.changes["sha256"][1] == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: {n: (d + b"{}\n" if n.endswith("data/exercises.jsonl") else d) for n, d in f.items()},
     "data/exercises.jsonl was changed"),
    (lambda f: {n: d for n, d in f.items() if not n.endswith("data/states.jsonl")}, "listed in manifest-sha256.txt"),
    (lambda f: {**f, next(iter(f)).split("/")[0] + "/data/extra.jsonl": b"{}\n"}, "data/extra.jsonl is not listed"),
    (lambda f: {n: (d.replace(b'exercises.jsonl":4', b'exercises.jsonl":9') if n.endswith("/export.json") else d)
                for n, d in f.items()}, "export.json does not match its signature"),
])
def test_the_verifier_detects_a_changed_missing_or_added_file(app, people, exercises, tmp_path, change, message):
    path = _bundle(app, _client(app, people["auditor"]))
    result = _verify(_rewrite(path, tmp_path / "tampered.zip", change))
    assert result.returncode == 1
    assert message in result.stdout


def test_each_bundle_names_the_one_before_it(app, people, exercises):
    client = _client(app, people["auditor"])
    first = _bundle(app, client)
    second = _bundle(app, client)
    assert _verify(second, "--previous", str(first)).returncode == 0
    result = _verify(first, "--previous", str(second))
    assert result.returncode == 1 and "chain of exports is broken" in result.stdout


def test_bundles_are_for_auditors_and_the_period_is_checked(app, people):
    client = _client(app, people["kz"])
    response = client.post("/exports/bundle", data={"csrf_token": csrf_token(client, "/exports/")})
    assert response.status_code == 403
    auditor = _client(app, people["auditor"])
    response = auditor.post("/exports/bundle", data={"period_from": "2026-05-01", "period_to": "2026-04-01",
                                                     "csrf_token": csrf_token(auditor, "/exports/")})
    assert response.status_code == 200
    assert "The end date cannot be before the start date." in response.get_data(as_text=True)
    response = auditor.post("/exports/bundle", data={"period_from": "2026-02-30",
                                                     "csrf_token": csrf_token(auditor, "/exports/")})
    assert "Enter a date as YYYY-MM-DD." in response.get_data(as_text=True)
    assert _jobs(app) == []


def test_the_zip_is_readable_as_bytes(app, people, exercises):
    path = _bundle(app, _client(app, people["auditor"]))
    assert zipfile.is_zipfile(io.BytesIO(path.read_bytes()))


def test_a_truncated_bundle_is_detected(app, people, exercises, tmp_path):
    path = _bundle(app, _client(app, people["auditor"]))
    cut = tmp_path / "cut.zip"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = _verify(cut)
    assert result.returncode == 2 and "cannot verify" in result.stderr
    shortened = _rewrite(path, tmp_path / "short.zip", lambda f: {
        n: (d[: len(d) // 2] if n.endswith("data/audit-log.jsonl") else d) for n, d in f.items()})
    result = _verify(shortened)
    assert result.returncode == 1 and "data/audit-log.jsonl was changed" in result.stdout
