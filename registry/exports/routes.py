"""Export what a list shows: /exports/<dataset>.<format>?<the list's filters>.

The file is built completely in a temporary file before the response starts, so a failure is an error page,
never a success status with half a file. Exports larger than EXPORT_MAX_ROWS, and bundles of everything, are
jobs (services/export_jobs.py): written to a file by a worker, downloadable when complete.
"""

import io
import tempfile
from urllib.parse import parse_qsl

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from registry.db import db, utcnow
from registry.exports.forms import BundleForm, JobForm
from registry.exports.writers import FORMATS
from registry.i18n import _
from registry.services import export_jobs as jobs
from registry.services import exports as svc
from registry.services.errors import NotFound, ValidationFailed
from registry.services.permissions import require
from registry.web import apply_errors, login_required

bp = Blueprint("exports", __name__, url_prefix="/exports")
SPOOL_BYTES = 8 * 1024 * 1024  # kept in memory up to this size, then on disk


@bp.route("/")
@login_required
def index():
    """The datasets this user may export, in every format, without filters (each list links with its own), the
    user's export jobs, and for auditors the bundle of everything."""
    return render_template("exports/index.html", datasets=svc.datasets_for(current_user), formats=FORMATS,
                           jobs=jobs.visible_jobs(current_user), job_form=JobForm(), bundle_form=BundleForm())


@bp.route("/jobs", methods=["POST"])
@login_required
def new_job():
    """Prepare a list's export as a job (for exports too big to download at once)."""
    form = JobForm()
    if not form.validate():
        flash(_("The form expired or was not sent from this site. Please submit it again."), "error")
        return redirect(url_for("exports.index"))
    try:
        job = jobs.request_dataset(current_user, form.dataset.data, form.fmt.data,
                                   MultiDict(parse_qsl(form.filters.data or "", keep_blank_values=False)))
    except NotFound:
        abort(404)
    except ValidationFailed as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(url_for("exports.index"))
    db.session.commit()
    flash(_("Export %(n)d is queued; it is listed below with its progress.", n=job.id), "success")
    return redirect(url_for("exports.index"))


@bp.route("/bundle", methods=["POST"])
@login_required
def new_bundle():
    """Export everything (or everything in a period) as one signed BagIt bundle, prepared as a job."""
    require(current_user, "export.bundle")
    form = BundleForm()
    if form.validate():
        try:
            job = jobs.request_bundle(current_user, form.period_from.data, form.period_to.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Bundle %(n)d is queued; it is listed below with its progress.", n=job.id), "success")
            return redirect(url_for("exports.index"))
    return render_template("exports/index.html", datasets=svc.datasets_for(current_user), formats=FORMATS,
                           jobs=jobs.visible_jobs(current_user), job_form=JobForm(), bundle_form=form)


@bp.route("/jobs/<int:job_id>/file")
@login_required
def job_download(job_id: int):
    try:
        job, path = jobs.job_file(current_user, job_id)
    except NotFound:
        abort(404)
    media = "application/zip" if job.kind == "bundle" else FORMATS[job.format][1]
    response = send_file(path, mimetype=media, as_attachment=True, download_name=job.file_name, max_age=0)
    response.headers["X-Checksum-SHA256"] = job.sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
        return render_template("exports/too_big.html", dataset=dataset, fmt=fmt, limit=limit,
                               job_form=JobForm(dataset=dataset, fmt=fmt, filters=request.query_string.decode()))
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
