"""A worker thread in the web process for export jobs, so the embedded default needs no other server.

`make run` turns it on (EXPORT_WORKER_SECONDS=5). In production run `flask --app app export-jobs work` as its own
service instead (several of them share the queue safely on PostgreSQL).
"""

import logging
import threading

from flask import Flask

from registry.db import db
from registry.services import export_jobs

log = logging.getLogger(__name__)


def work_once(app: Flask) -> int:
    """One round in its own app context; an error is logged, never raised into the server."""
    with app.app_context():
        try:
            export_jobs.remove_expired()
            return export_jobs.run_pending()
        except Exception:  # noqa: BLE001 - the next round tries again; a failing job is marked failed by run()
            db.session.rollback()
            log.exception("export worker round failed")
            return 0
        finally:
            db.session.remove()


def start_export_worker(app: Flask) -> threading.Thread | None:
    seconds = app.config.get("EXPORT_WORKER_SECONDS", 0)
    if not seconds or app.config.get("TESTING"):
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            work_once(app)

    thread = threading.Thread(target=loop, name="export-worker", daemon=True)
    thread.stop = stop
    thread.start()
    log.info("running export jobs every %s s", seconds)
    return thread
