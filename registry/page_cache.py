"""Rendered read pages, kept in each worker process and keyed on the registry's data version.

Every change to the registry's data appends an audit entry in the same transaction (services/audit.py), so the
head of the audit chain - its sequence number and hash - names the state of everything a page can show: a
page rendered at one head is served again only while the head is unchanged. The hash as well as the number:
a database restored or reset to the same length holds another chain, so an old page can never match it.

The version is read before the page's data. On PostgreSQL (READ COMMITTED) every statement sees the latest
commits, so the data may be newer than the version it is stored under, never older: a page is never served
for a state of the registry it does not show.

The key also holds everything else a page depends on: the reader (their id stands for their role, state and
scope, whose changes are audited too), their session's CSRF token (in the sign-out and language forms), the
language, the day (the current year, statuses that depend on the date), the path and the exact query string.
Nothing is shared between sessions. A page with a flashed message is neither served from nor kept in the cache.
The cache is bounded in bytes (PAGE_CACHE_BYTES per worker; 0 turns it off) and drops the least recently used
pages first. Only pages that change no data use it: the exercise list and year view (exercises/listing.py), the
officers' and the Secretariat's dashboards (core/routes.py).
"""

import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from registry.db import db, utcnow
from registry.models import AuditHead


class PageCache:
    """A least-recently-used map of rendered pages, bounded by the total length of the stored text."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple, str] = OrderedDict()
        self._lock = threading.Lock()  # threaded servers share one cache per process

    def get(self, key: tuple) -> str | None:
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
            return html

    def put(self, key: tuple, html: str) -> None:
        cost = len(html)
        if cost > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old)
            self._items[key] = html
            self.size += cost
            while self.size > self.max_bytes:
                _key, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0

    def __len__(self) -> int:
        return len(self._items)


def init_app(app) -> None:
    app.extensions["page_cache"] = PageCache(app.config["PAGE_CACHE_BYTES"])


_HEAD = select(AuditHead.seq, AuditHead.hash)  # built once: read on every cached page


def data_version() -> tuple[int, str]:
    """The audit chain's head: changes with every change to the registry's data."""
    head = db.session.execute(_HEAD).first()
    return (head.seq, head.hash) if head else (0, "")


def cached_page(render: Callable[[], str]) -> str:
    """The current page as `render()` makes it, rendered again only when the registry has changed since it was
    last rendered for the same session, language, day, path and query string."""
    cache: PageCache = current_app.extensions["page_cache"]
    if not cache.max_bytes or "_flashes" in session:
        return render()
    if "csrf_token" not in session:
        generate_csrf()  # the page carries the session's CSRF token: it must exist before it keys the page
    key = (data_version(), current_user.get_id(), session.get("csrf_token"), str(get_locale()), utcnow().date(),
           request.path, request.query_string)
    html = cache.get(key)
    if html is None:
        html = render()
        cache.put(key, html)
    return html
