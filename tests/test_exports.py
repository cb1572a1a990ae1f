"""Exports of the lists: the same filters and scoping as the list, formulas neutralised, every export audited,
never more than a list shows, and the command-line export that never leaves a half file."""

import csv
import hashlib
import io
import json

import pytest
from sqlalchemy import select

from registry.db import db
from registry.models import AuditEntry, Submission
from tests import visit_factories as vf
from tests.conftest import login
from tests.factories import fill_the_disk_after_first_write
from tests.test_exercise_listing import make_exercise


@pytest.fixture
def people(make_user):
    return {"kz": make_user("officer", "KZ"), "cn": make_user("officer", "CN"), "ru": make_user("officer", "RU"),
            "reviewer": make_user("secretariat"), "auditor": make_user("auditor"), "admin": make_user("admin")}


@pytest.fixture
def records(app, people):
    """Exercises of three states; one accepted but for the Secretariat only (the canary)."""
    with app.app_context():
        kz, reviewer = people["kz"].id, people["reviewer"].id
        made = {
            "kz_draft": make_exercise(kz, reviewer, "draft", "KZ", designation_en="KZ draft")[1],
            "kz_public": make_exercise(kz, reviewer, "accepted", "KZ", visibility="public",
                                       designation_en="=HYPERLINK(\"http://evil.example\",\"x\")")[1],
            "ru_members": make_exercise(people["ru"].id, reviewer, "accepted", "RU", designation_en="RU members")[1],
            "canary": make_exercise(people["ru"].id, reviewer, "accepted", "RU", visibility="secretariat",
                                    designation_en="CANARY secretariat only")[1],
            "ru_draft": make_exercise(people["ru"].id, reviewer, "draft", "RU", designation_en="RU draft")[1],
        }
    return made


def _client(app, person):
    client = app.test_client()
    assert login(client, person).status_code == 302
    return client


def _csv(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8"), newline="")))


def _list_references(client, url) -> set[str]:
    import re

    return set(re.findall(r"EXN-\d{4}-\d{4}", client.get(url).get_data(as_text=True)))


def test_an_officers_export_is_exactly_the_officers_list(app, people, records):
    client = _client(app, people["cn"])
    rows = _csv(client.get("/exports/exercises.csv"))
    exported = {r["reference"] for r in rows}
    assert exported == _list_references(client, "/exercises/") == {records["kz_public"], records["ru_members"]}
    assert "CANARY" not in client.get("/exports/exercises.json").get_data(as_text=True)
    own = {r["reference"] for r in _csv(_client(app, people["kz"]).get("/exports/exercises.csv"))}
    assert records["kz_draft"] in own and records["ru_draft"] not in own and records["canary"] not in own


def test_the_secretariat_and_auditors_export_everything_but_deleted_drafts(app, people, records):
    for who in ("reviewer", "auditor"):
        exported = {r["reference"] for r in _csv(_client(app, people[who]).get("/exports/exercises.csv"))}
        assert exported == set(records.values())


def test_the_lists_filters_apply_to_its_export(app, people, records):
    client = _client(app, people["auditor"])
    rows = _csv(client.get("/exports/exercises.csv?state=KZ"))
    assert {r["reference"] for r in rows} == {records["kz_draft"], records["kz_public"]}
    assert 'href="/exports/exercises.csv?state=KZ"' in client.get("/exercises/?state=KZ").get_data(as_text=True)


def test_reference_first_fixed_columns_and_neutralised_formulas(app, people, records):
    rows = _csv(_client(app, people["auditor"]).get("/exports/exercises.csv"))
    assert list(rows[0])[0] == "reference"
    cell = next(r["designation_en"] for r in rows if r["reference"] == records["kz_public"])
    assert cell.startswith("'=HYPERLINK")


def test_every_export_is_audited_with_its_rows_and_digest(app, people, records):
    response = _client(app, people["auditor"]).get("/exports/exercises.csv?state=RU")
    body = response.get_data()
    assert response.headers["X-Checksum-SHA256"] == hashlib.sha256(body).hexdigest()
    assert response.headers["Content-Length"] == str(len(body))
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.create"))
        assert entry.actor_label == people["auditor"].email
        assert entry.changes["rows"] == [None, 3] and entry.changes["sha256"][1] == hashlib.sha256(body).hexdigest()
        assert entry.changes["filters"][1] == {"state": ["RU"]}


def test_xlsx_and_json_lines_exports_open(app, people, records):
    from openpyxl import load_workbook

    client = _client(app, people["auditor"])
    sheet = load_workbook(io.BytesIO(client.get("/exports/exercises.xlsx").get_data()), read_only=True).active
    assert next(sheet.iter_rows(values_only=True))[0] == "reference"
    lines = client.get("/exports/exercises.jsonl").get_data().splitlines()
    assert len(lines) == len(records) and json.loads(lines[0])["reference"].startswith("EXN-")


@pytest.mark.parametrize("query", ["state=XX", "type=castle", "from=2026-13-45"])
def test_bad_filters_give_a_clear_message_and_no_file(app, people, records, query):
    client = _client(app, people["auditor"])
    response = client.get(f"/exports/exercises.csv?{query}")
    assert response.status_code == 302 and response.location == "/exports/"
    page = client.get("/exports/").get_data(as_text=True)
    assert "The export was not made" in page
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "export.create")) is None


def test_unknown_datasets_and_formats(app, people):
    client = _client(app, people["auditor"])
    assert client.get("/exports/nothing.csv").status_code == 404
    assert client.get("/exports/exercises.exe").status_code == 302


def test_the_audit_log_is_exported_to_auditors_only(app, people, records):
    rows = _csv(_client(app, people["auditor"]).get("/exports/audit.csv?action=submission."))
    assert rows and all(r["action"].startswith("submission.") for r in rows)
    assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)
    assert _client(app, people["kz"]).get("/exports/audit.csv").status_code == 403
    assert _client(app, people["admin"]).get("/exports/exercises.csv").status_code == 403


def test_visit_answers_show_participants_only_where_the_visit_page_does(app, people):
    with app.app_context():
        offer = vf.published_offer(people["kz"].id, people["reviewer"].id)
        vf.answer(people["cn"].id, offer)
        reference = offer.reference
    host = _csv(_client(app, people["kz"]).get("/exports/visit_answers.csv"))
    assert host[0]["invited_state"] == "CN" and "Participant 0" in host[0]["participants"]
    other = _csv(_client(app, people["ru"]).get("/exports/visit_answers.csv"))
    assert other[0]["participant_count"] == "2" and other[0]["participants"] == ""
    visits = _csv(_client(app, people["ru"]).get("/exports/visits.csv"))
    assert visits[0]["reference"] == reference and visits[0]["visit_status"] == "invitations_sent"


def test_too_big_for_a_download_is_offered_as_a_job(app, people, records):
    app.config["EXPORT_MAX_ROWS"] = 2
    try:
        client = _client(app, people["auditor"])
        response = client.get("/exports/exercises.csv?state=RU")
        assert response.status_code == 200 and response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert "too big to download at once" in page and 'value="state=RU"' in page
    finally:
        app.config["EXPORT_MAX_ROWS"] = 200000


def test_the_command_line_export_writes_the_file_and_its_manifest(app, runner, people, records, tmp_path):
    target = tmp_path / "exercises.csv"
    result = runner.invoke(args=["export", "exercises", "--as", people["cn"].email, "--output", str(target),
                                 "--filter", "state=KZ"])
    assert result.exit_code == 0, result.output
    body = target.read_bytes()
    assert (tmp_path / "exercises.csv.sha256").read_text() == f"{hashlib.sha256(body).hexdigest()}  exercises.csv\n"
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["reference"] for r in rows] == [records["kz_public"]]


def test_an_interrupted_command_line_export_leaves_no_file(app, runner, people, records, tmp_path, monkeypatch):
    fill_the_disk_after_first_write(monkeypatch)
    target = tmp_path / "exercises.csv"
    result = runner.invoke(args=["export", "exercises", "--as", people["auditor"].email, "--output", str(target)])
    assert result.exit_code != 0
    assert list(tmp_path.iterdir()) == []
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "export.create")) is None


def test_structures_export_one_row_per_unit_post_and_holder(app, runner, people):
    """Through the demo data: Kyrgyzstan's accepted disclosure, as the CSV an officer of another state reads."""
    assert runner.invoke(args=["demo-load"]).exit_code == 0
    with app.app_context():
        kg_reference = db.session.scalar(select(AuditEntry.object_id).where(
            AuditEntry.action == "submission.accept", AuditEntry.object_type == "structure"))
    rows = _csv(_client(app, people["cn"]).get("/exports/structures.csv?state=KG"))
    assert rows and {r["reference"] for r in rows} == {kg_reference}
    assert all(r["unit_key"] for r in rows) and any(r["holder_name_latin"] for r in rows)
    assert _client(app, people["cn"]).get("/exports/structures.csv?state=ZZ").status_code == 302


def test_every_export_is_covered_by_a_signed_checkpoint(app, people, records):
    from registry.models import AuditCheckpoint

    _client(app, people["auditor"]).get("/exports/states.csv")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.create"))
        checkpoint = db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1))
        assert checkpoint is not None and checkpoint.seq >= entry.seq


def test_reports_and_remarks_are_exported_with_their_document_digest(app, people):
    with app.app_context():
        offer = vf.published_offer(people["kz"].id, people["reviewer"].id)
        vf.answer(people["cn"].id, offer)
        vf.held(people["kz"].id, offer)
        paper = vf.report(people["kz"].id, offer)
        reference, visit_reference = paper.reference, offer.reference
    host = _csv(_client(app, people["kz"]).get("/exports/visit_papers.csv"))
    assert [(r["reference"], r["visit"], r["status"]) for r in host] == [(reference, visit_reference, "draft")]
    assert host[0]["document_sha256"] == hashlib.sha256(vf.PDF).hexdigest()
    assert _csv(_client(app, people["cn"]).get("/exports/visit_papers.csv")) == []  # a draft of another state


def _statements_for(app, person, dataset) -> int:
    """How many SQL statements one export runs (its own, after the sign-in)."""
    from sqlalchemy import event

    client = _client(app, person)
    count = {"n": 0}

    def counter(*args):
        count["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        assert client.get(f"/exports/{dataset}.csv").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count["n"]


@pytest.mark.parametrize("dataset", ["exercises", "visits", "visit_answers"])
def test_an_export_runs_the_same_number_of_queries_for_few_rows_and_many(app, people, dataset):
    """No query per row (the benchmark found one): three times the rows, the same number of statements."""
    def add(n):
        with app.app_context():
            for _ in range(n):
                if dataset == "exercises":
                    make_exercise(people["kz"].id, people["reviewer"].id, "accepted", "KZ")
                else:
                    offer = vf.published_offer(people["kz"].id, people["reviewer"].id)
                    vf.answer(people["cn"].id, offer)
                    vf.answer(people["ru"].id, offer, decision="declined", people=0)

    add(1)
    few = _statements_for(app, people["auditor"], dataset)
    add(2)
    many = _statements_for(app, people["auditor"], dataset)
    assert many == few


def test_exported_cells_are_the_registrys_values_on_every_backend(app, people, records):
    """The export reads raw driver values for speed: booleans, timestamps and dates come out as the pages know
    them, the same on SQLite and PostgreSQL."""
    rows = {r["reference"]: r for r in _csv(_client(app, people["auditor"]).get("/exports/exercises.csv"))}
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.reference == records["kz_public"]))
        expected_submitted = submission.submitted_at.isoformat()
        expected_decided = submission.decided_at.isoformat()
    row = rows[records["kz_public"]]
    assert row["submitted_at"] == expected_submitted and row["decided_at"] == expected_decided
    assert row["submitted_at"].endswith("+00:00")
    assert row["within_border_zone"] == "false" and row["is_late"] == "false"
    assert row["start_date"] == "2031-05-10" and row["troops_total"] == "1000" and row["status"] == "accepted"
    assert row["visibility"] == "public" and row["exercise_type"] == "field_training" and row["version"] == "1"
    draft = rows[records["kz_draft"]]
    assert draft["submitted_at"] == "" and draft["decided_at"] == ""
    document = json.loads(_client(app, people["auditor"]).get("/exports/exercises.json").get_data())
    first = next(r for r in document["rows"] if r["reference"] == records["kz_public"])
    assert first["observers_invited"] is False and first["submitted_at"] == expected_submitted
