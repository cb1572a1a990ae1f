"""Two application instances on one database (issue 8, item 8): two gunicorn processes on two loopback ports, as
a registry that outgrew one machine runs them behind a load balancer. PostgreSQL only: SQLite is one file for one
machine, and production refuses it without an explicit flag (docs/deployment.md).

- a session opened on one instance works on the other, and signing out on one ends it on both;
- the login throttle counts the failures made on both;
- audit entries appended by both at the same time form one gapless chain that verifies;
- export jobs queued once are each written by exactly one of the two instances' workers.
"""

import secrets
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from registry.db import db
from registry.models import AuditEntry, ExportJob, Submission, User
from registry.services import audit_checkpoints, export_jobs
from tests.live_server import Browser, Gunicorn, prepare_database, server_env
from tests.test_exercise_pages import valid_form

THROTTLED = "Too many failed sign-in attempts"


@pytest.fixture(scope="module")
def two_instances(backend, fresh_database_url, tmp_path_factory):
    """Started once for the module (starting gunicorn is the slow part); each test uses its own accounts."""
    if backend != "postgresql":
        pytest.skip("two instances share one PostgreSQL database; SQLite is a single-machine database")
    url = fresh_database_url()
    tmp_path = tmp_path_factory.mktemp("two-instances")
    env = server_env(url, tmp_path / "shared", EXPORT_WORKER_SECONDS=1)
    app = prepare_database(url, env, officers=[("KZ", "kz@example.org"), ("KZ", "kz2@example.org"),
                                               ("KZ", "kz3@example.org"), ("KG", "locked@example.org")])
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(Gunicorn(env, workers=2, log=tmp_path / f"gunicorn-{name}.log"))
        yield app, servers
    finally:
        for server in servers:
            server.stop()
        with app.app_context():
            db.engine.dispose()


def test_a_session_opened_on_one_instance_works_on_the_other_and_ends_on_both(two_instances):
    _app, (a, b) = two_instances
    on_a = Browser(a.port)
    assert on_a.login("kz@example.org") == 302
    on_b = Browser(b.port)
    on_b.cookies = dict(on_a.cookies)  # the load balancer sends the same browser to the other instance
    assert on_b.get("/exercises/")[0] == 200
    assert on_a.get("/exercises/")[0] == 200

    status, location, _html = on_b.post("/logout", {"csrf_token": on_b.token("/exercises/")})
    assert (status, location) == (302, "/login")
    # The copy of the cookie still held by the browser on A is worthless now.
    status, location, _html = on_a.get("/exercises/")
    assert status == 302 and location.startswith("/login")


def test_the_login_throttle_counts_failures_made_on_both_instances(two_instances):
    app, (a, b) = two_instances
    for attempt in range(5):  # the account's limit (LOGIN_MAX_FAILURES_PER_ACCOUNT), split over the two
        server = a if attempt % 2 else b
        assert Browser(server.port).login("locked@example.org", "a wrong password here") == 200
    for server in (a, b):
        browser = Browser(server.port)
        status, _location, html = browser.post("/login", {"email": "locked@example.org",
                                                          "password": "correct horse battery",
                                                          "csrf_token": browser.token("/login")})
        assert status == 200 and THROTTLED in html, "the right password is refused while the account is locked"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "auth.login_failed")) == 5


def test_audit_entries_appended_by_both_instances_form_one_gapless_verifying_chain(two_instances):
    app, (a, b) = two_instances
    filed, errors = [], []

    def officer_files(email: str, server: Gunicorn, count: int) -> None:
        browser = Browser(server.port)
        assert browser.login(email) == 302
        token = browser.token("/exercises/new")
        for _n in range(count):
            data = {**valid_form(app), "action": "save", "csrf_token": token,
                    "idempotency_key": secrets.token_urlsafe(24)}
            status, location, _html = browser.post("/exercises/new", data)
            (filed if status == 302 else errors).append((server.port, status, location))

    threads = [threading.Thread(target=officer_files, args=args) for args in
               (("kz@example.org", a, 8), ("kz2@example.org", b, 8), ("kz3@example.org", a, 4))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(filed) == 20
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 20
        seqs = list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert seqs == list(range(1, len(seqs) + 1)), "gapless and unique"
        result = audit_checkpoints.verify_database()
        assert result.ok, result


def test_each_export_job_is_written_by_exactly_one_instance(two_instances):
    app, servers = two_instances
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.email == "kz@example.org"))
        ids = []
        for dataset in ("states", "exercises", "calendars", "states", "exercises", "calendars", "states", "states"):
            ids.append(export_jobs.request_dataset(officer, dataset, "csv", MultiDict()).id)
            db.session.commit()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with app.app_context():
            statuses = list(db.session.scalars(select(ExportJob.status).where(ExportJob.id.in_(ids))))
        if all(status in ("done", "failed") for status in statuses):
            break
        time.sleep(0.2)
    masters = {str(server.process.pid) for server in servers}
    with app.app_context():
        jobs = list(db.session.scalars(select(ExportJob).where(ExportJob.id.in_(ids))))
        assert [job.status for job in jobs] == ["done"] * len(ids)
        assert {job.worker.rsplit(":", 1)[1] for job in jobs} <= masters
        names = {job.file_name for job in jobs}
    files = {p.name for p in Path(app.config["EXPORT_DIR"]).iterdir()}
    # One file per job: a job written twice would have left a second file (names carry the writing time).
    assert files == names and len(files) == len(ids)
