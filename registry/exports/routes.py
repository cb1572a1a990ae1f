"""Export what a list shows: /exports/<dataset>.<format>?<the list's filters>.

The file is built completely in a temporary file before the response starts, so a failure is an error page,
never a success status with half a file. Exports larger than EXPORT_MAX_ROWS go through the CLI
(`flask --app app export`), which writes the file and its manifest for archiving.
"""

import io
import tempfile

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from registry.db import db, utcnow
from registry.exports.writers import FORMATS
from registry.i18n import _
from registry.services import exports as svc
from registry.services.errors import NotFound, ValidationFailed
from registry.web import login_required

bp = Blueprint("exports", __name__, url_prefix="/exports")
SPOOL_BYTES = 8 * 1024 * 1024  # kept in memory up to this size, then on disk


@bp.route("/")
@login_required
def index():
    """The datasets this user may export, in every format, without filters (each list links with its own)."""
    return render_template("exports/index.html", datasets=svc.datasets_for(current_user), formats=FORMATS)


@bp.route("/<dataset>.<fmt>")
@login_required
def download(dataset: str, fmt: str):
    try:
        prepared = svc.prepare(current_user, dataset, fmt, request.args)
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        flash(_("The export was not made: correct the filters and try again."), "error")
        return redirect(url_for("exports.index"))
    limit = current_app.config["EXPORT_MAX_ROWS"]
    if prepared.count() > limit:
        flash(_("This export has more than %(n)s rows: narrow the filters, or ask for it to be made with the "
                "command-line export for archiving.", n=f"{limit:,}"), "error")
        return redirect(url_for("exports.index"))
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    result = svc.write(current_user, dataset, fmt, prepared, spool)
    db.session.commit()
    spool.seek(0)
    name = f"{dataset}-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.{FORMATS[fmt][2]}"
    if result.size <= SPOOL_BYTES:  # still in memory: send the bytes and free the spool now
        body = io.BytesIO(spool.read())
        spool.close()
        response = send_file(body, mimetype=FORMATS[fmt][1], as_attachment=True, download_name=name, max_age=0)
    else:
        response = send_file(spool, mimetype=FORMATS[fmt][1], as_attachment=True, download_name=name, max_age=0)
        response.call_on_close(spool.close)
    response.headers["Content-Length"] = str(result.size)
    response.headers["X-Checksum-SHA256"] = result.sha256
    response.headers["X-Export-Rows"] = str(result.rows)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# Query-string keys of a list page that are not filters (paging) or would clash with the export's own address.
NOT_FILTERS = {"dataset", "fmt", "after", "before"}


def export_url(dataset: str, fmt: str) -> str:
    """The export of `dataset` with the current page's filters (repeated keys kept)."""
    args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in NOT_FILTERS}
    return url_for("exports.download", dataset=dataset, fmt=fmt, **args)


@bp.app_context_processor
def _helpers():
    return {"export_url": export_url}
