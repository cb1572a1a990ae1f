"""Development only: `make run`'s server delivers the outbox itself, every OUTBOX_PUMP_SECONDS, when MAIL_SERVER is
set. In production run `flask --app app notifications send` from cron instead (gunicorn workers would each pump)."""

import logging
import threading

from flask import Flask

from registry.db import db
from registry.services import notifications

log = logging.getLogger(__name__)


def pump_once(app: Flask) -> tuple[int, int]:
    """One delivery round in its own app context; an error is logged, never raised into the server."""
    with app.app_context():
        try:
            return notifications.send_pending()
        except Exception:  # noqa: BLE001 - the next round retries; the messages stay in the outbox
            db.session.rollback()
            log.exception("outbox delivery round failed")
            return 0, 0
        finally:
            db.session.remove()


def start_outbox_pump(app: Flask) -> threading.Thread | None:
    seconds = app.config.get("OUTBOX_PUMP_SECONDS", 0)
    if not seconds or not app.config["MAIL_SERVER"] or app.config.get("TESTING") or app.config["PRODUCTION"]:
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            pump_once(app)

    thread = threading.Thread(target=loop, name="outbox-pump", daemon=True)
    thread.stop = stop
    thread.start()
    log.info("delivering the outbox every %s s (MAIL_SERVER=%s)", seconds, app.config["MAIL_SERVER"])
    return thread
