"""The registry served by real gunicorn processes on loopback, and a small cookie-keeping HTTP client.

Used by the fault tests (a worker killed with SIGKILL mid-request) and the two-instance tests; bench/load.py
uses the same pieces. Everything runs on 127.0.0.1 on free ports and is stopped at the end of the test.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from registry import create_app, migrate
from registry.db import db
from registry.models import MemberState
from registry.services import states as state_service
from registry.services import users as user_service
from registry.services.actors import CLI

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"  # noqa: S105 - the test accounts' password
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, workdir: Path, **extra) -> dict:
    """The environment a server process reads its configuration from (registry/config.py)."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "DATABASE_URL"))}
    env.update({
        "DATABASE_URL": database_url, "SECRET_KEY": "live-server-test-key-" + "k" * 32,
        "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024", "ARGON2_PARALLELISM": "1",
        "AUDIT_SIGNING_KEY_FILE": str(workdir / "audit_signing_key.pem"),
        "AUDIT_CHECKPOINT_LOG": str(workdir / "audit_checkpoints.jsonl"), "EXPORT_DIR": str(workdir / "exports"),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def prepare_database(database_url: str, env: dict, officers=(("KZ", "officer.kz@example.org"),),
                     password: str = PASSWORD):
    """Migrate a fresh database, load the member states and add officers; returns an app bound to it."""
    migrate.upgrade(database_url)
    app = create_app(app_config(database_url, env))
    with app.app_context():
        state_service.load_state_seeds()
        db.session.commit()
        for code, email in officers:
            state_id = db.session.scalar(db.select(MemberState.id).where(MemberState.code == code))
            user_service.create_user(CLI, email=email, display_name=email.split("@")[0], role="officer",
                                     state_id=state_id, password=password, temporary_password=False)
        db.session.commit()
    return app


def app_config(database_url: str, env: dict) -> dict:
    """The same configuration as the server's, for checks made in the test process."""
    return {"TESTING": True, "SECRET_KEY": env["SECRET_KEY"], "SQLALCHEMY_DATABASE_URI": database_url,
            "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1,
            "AUDIT_SIGNING_KEY_FILE": env["AUDIT_SIGNING_KEY_FILE"],
            "AUDIT_CHECKPOINT_LOG": env["AUDIT_CHECKPOINT_LOG"], "EXPORT_DIR": env["EXPORT_DIR"]}


class Gunicorn:
    """`gunicorn --preload` serving create_app() on a free loopback port; the workers are forked from the
    loaded master, so a killed worker is replaced in a fraction of a second."""

    def __init__(self, env: dict, workers: int = 1, threads: int = 1, log: Path | None = None):
        self.port = free_port()
        self.log = open(log or os.devnull, "ab")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "gunicorn", "--preload", "--workers", str(workers), "--threads", str(threads),
               "--bind", f"127.0.0.1:{self.port}", "--timeout", "30", "--graceful-timeout", "2",
               "registry:create_app()"]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=self.log)  # noqa: S603
        self.wait_ready()

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if Browser(self.port).get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("gunicorn did not answer in time")

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def kill_worker(self) -> int:
        """SIGKILL one worker, as the kernel's OOM killer or a crash would; returns its pid."""
        pid = self.workers()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_for_new_worker(self, old_pid: int, count: int = 1, seconds: float = 10) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pids = self.workers()
            if old_pid not in pids and len(pids) >= count:
                return
            time.sleep(0.01)
        raise RuntimeError("gunicorn did not replace the killed worker")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()


class Browser:
    """A cookie-keeping HTTP/1.1 client for one user; no redirects are followed."""

    def __init__(self, port: int, timeout: float = 30):
        self.port, self.timeout, self.cookies = port, timeout, {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _sep, rest = value.partition("=")
                    cookie = rest.split(";", 1)[0]
                    if "Expires=Thu, 01 Jan 1970" in value or not cookie:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = cookie
            return response.status, response.getheader("Location", ""), data.decode("utf-8", "replace")
        finally:
            connection.close()

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, data) -> tuple:
        return self.request("POST", path, urlencode(data, doseq=True).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def token(self, path: str) -> str:
        status, _location, html = self.get(path)
        match = CSRF_RE.search(html)
        assert match, f"no CSRF token on {path} ({status})"
        return match.group(1)

    def login(self, email: str, password: str = PASSWORD) -> int:
        status, _location, _html = self.post("/login", {"email": email, "password": password,
                                                        "csrf_token": self.token("/login")})
        return status
