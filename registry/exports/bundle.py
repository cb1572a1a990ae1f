"""Export everything (or everything in a period) as one ZIP in the BagIt layout (RFC 8493).

    <bag>/bagit.txt                 BagIt version and encoding
    <bag>/bag-info.txt              who, when, what (Payload-Oxum: bytes.files of data/)
    <bag>/data/<dataset>.jsonl      one file per dataset, as the exporting user's lists show it
    <bag>/data/audit-log.jsonl      the audit log up to a checkpoint signed for this export (auditors)
    <bag>/data/tables/<table>.jsonl every table, for `flask --app app restore-bundle` (see exports/tables.py)
    <bag>/manifest-sha256.txt       SHA-256 of every file under data/
    <bag>/export.json               the export's record: filters, row counts, versions, audit head, checkpoint,
                                    and the previous export's signature (exports form a chain)
    <bag>/export.json.sig           Ed25519 signature of export.json with the audit signing key
    <bag>/audit-signing-key.pub     that key (to check consistency; get the real one from the operators)
    <bag>/verify_audit.py           the stand-alone verifier: `python3 verify_audit.py --bundle FILE.zip`
    <bag>/tagmanifest-sha256.txt    SHA-256 of every other file above

The bundle is written to a temporary file and renamed into place only when complete.
"""

import base64
import hashlib
import io
import os
import zipfile
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from registry.db import db, utcnow
from registry.exports import tables
from registry.exports.datasets import DATASETS
from registry.exports.writers import write_jsonl
from registry.models import AuditEntry, AuditHead
from registry.services import audit, audit_checkpoints
from registry.services.audit_chain import canonical, timestamp
from registry.services.permissions import can

BUNDLE_FORMAT = "sco-cbm-registry/export-bundle/v1"
EXPORT_TAG = b"sco-cbm-registry/export/v1\x00"
# Which query-string filters select "everything in a period" in each dataset's list.
PERIOD_FILTERS = {"exercises": ("from", "to"), "visits": ("from", "to"), "visit_answers": ("from", "to")}
SKIPPED = {"audit"}  # the audit log travels whole, with its chain and checkpoints, not as a filtered list


def _period_args(name: str, period_from: date | None, period_to: date | None) -> dict:
    args = {"when": "all"} if name in ("visits", "visit_answers") else {}
    keys = PERIOD_FILTERS.get(name)
    if keys and period_from:
        args[keys[0]] = period_from.isoformat()
    if keys and period_to:
        args[keys[1]] = period_to.isoformat()
    return args


def _database_revision() -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sco-cbm-registry")
    except PackageNotFoundError:
        return "unknown"


def previous_signature() -> str | None:
    """The signature of the last bundle recorded in the audit log: each export names the one before it."""
    changes = db.session.scalar(select(AuditEntry.changes).where(AuditEntry.action == "export.bundle")
                                .order_by(AuditEntry.seq.desc()).limit(1))
    return changes["signature"][1] if changes else None


def sign_record(document: bytes) -> str:
    return base64.b64encode(audit_checkpoints.signing_key().sign(EXPORT_TAG + document)).decode("ascii")


def build_bundle(actor, target: Path, *, period_from: date | None = None, period_to: date | None = None,
                 progress=None) -> dict:
    """Write the bundle to `target`; returns the export record. The audit entries join the caller's transaction
    (commit after this returns); on any error nothing is left at `target`."""
    key = audit_checkpoints.signing_key()  # fail before any work when the key is missing
    files: dict[str, bytes] = {}
    counts: dict[str, int] = {}
    filters = {"from": period_from.isoformat() if period_from else None,
               "to": period_to.isoformat() if period_to else None}
    for name, dataset in DATASETS.items():
        if name in SKIPPED or not can(actor, dataset.permission):
            continue
        prepared = dataset.prepare(actor, MultiDict(_period_args(name, period_from, period_to)))
        buffer = io.BytesIO()
        counts[f"data/{name}.jsonl"] = write_jsonl(prepared.columns, prepared.rows(), buffer)
        files[f"data/{name}.jsonl"] = buffer.getvalue()
        if progress:
            progress(name)
    for table in tables.tables():  # every table, for the restore test of a backup (flask restore-bundle)
        files[f"data/tables/{table.name}.jsonl"] = b"".join(tables.dump(table))
        counts[f"data/tables/{table.name}.jsonl"] = files[f"data/tables/{table.name}.jsonl"].count(b"\n")
    if can(actor, "audit.view"):
        checkpoint = audit_checkpoints.prepare_export(actor, purpose="export bundle")
        text = io.StringIO()
        counts["data/audit-log.jsonl"] = audit_checkpoints.write_export(text, checkpoint)
        files["data/audit-log.jsonl"] = text.getvalue().encode("utf-8")
    else:
        checkpoint = audit_checkpoints.sign_checkpoint(force=True)
    head = db.session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    now = timestamp(utcnow())
    record = {
        "format": BUNDLE_FORMAT, "origin": current_app.config["AUDIT_ORIGIN"], "exported_at": now,
        "exported_by": {"id": actor.id, "email": actor.email, "role": actor.role.value},
        "filters": {k: v for k, v in filters.items() if v}, "files": counts,
        "application_version": _app_version(), "database_revision": _database_revision(),
        "audit_head": {"seq": head.seq, "hash": head.hash},
        "checkpoint": {"origin": checkpoint.origin, "seq": checkpoint.seq, "head_hash": checkpoint.head_hash,
                       "signed_at": checkpoint.signed_at, "key_id": checkpoint.key_id,
                       "signature": checkpoint.signature},
        "previous_export_signature": previous_signature(),
    }
    document = (canonical(record) + "\n").encode("utf-8")
    signature = sign_record(document)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    payload_bytes = sum(len(b) for b in files.values())
    tags = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": (f"Source-Organization: SCO Confidence-Building Measures Registry ({record['origin']})\n"
                         f"Bagging-Date: {now[:10]}\n"
                         f"Bag-Software-Agent: sco-cbm-registry {record['application_version']}\n"
                         f"External-Identifier: {signature[:32]}\nContact-Email: {actor.email}\n"
                         f"Payload-Oxum: {payload_bytes}.{len(files)}\n").encode(),
        "manifest-sha256.txt": "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                                       for name, data in sorted(files.items())).encode("utf-8"),
        "export.json": document,
        "export.json.sig": (signature + "\n").encode("ascii"),
        "audit-signing-key.pub": public_pem,
        "verify_audit.py": audit_checkpoints.verifier_source().encode("utf-8"),
    }
    tags["tagmanifest-sha256.txt"] = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n"
                                             for name, data in sorted(tags.items())).encode("utf-8")
    bag = f"sco-cbm-export-{now[:19].replace(':', '').replace('-', '')}"
    partial = target.with_name(f".{target.name}.part")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in {**tags, **files}.items():
                archive.writestr(f"{bag}/{name}", data)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    zip_sha = hashlib.sha256(target.read_bytes()).hexdigest()
    audit.record("export.bundle", actor=actor, object_type="export", object_id=bag,
                 changes={"filters": [None, record["filters"]], "files": [None, counts],
                          "signature": [None, signature],
                          "previous_signature": [None, record["previous_export_signature"]],
                          "sha256": [None, zip_sha], "checkpoint_seq": [None, checkpoint.seq]})
    return record | {"signature": signature, "sha256": zip_sha, "bag": bag}
