"""The CSV lines the database writes (exports/sql_csv.py) are byte for byte the generic CSV writer's, on both
backends, for the awkward cells an old row may hold: formulas, quotes, commas, line breaks, empty and missing
values, floats, booleans and timestamps with and without microseconds."""

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from registry.db import db
from registry.exports.datasets import DATASETS
from registry.exports.sql_csv import write_csv_lines
from registry.exports.writers import write_csv
from registry.models import ExerciseDetails, Revision, Submission
from tests.factories import user
from tests.test_exercise_listing import make_exercise

AWKWARD = [
    '=HYPERLINK("http://example.org")', "+7 701 000 0000", "-1", "@SUM(A1)", "\tTabbed", "\rReturned",
    "comma, inside", 'say "hello"', "two\nlines", "two\r\nlines", "", "'already quoted", " leading space",
    "Учение «Мир», 和平使命", "ends with a quote\"", "=", "back\\slash \\n not a line break", "a\ttab, inside",
]
FLOATS = [52.0, -0.5, 38.123456, 89.999999, -79.5, 0.25, None]


@pytest.fixture
def people(make_user):
    return {"kz": make_user("officer", "KZ"), "cn": make_user("officer", "CN"), "reviewer": make_user("secretariat"),
            "auditor": make_user("auditor")}


@pytest.fixture
def awkward(app, people):
    """One exercise per awkward text, written into the row directly: an export must take any row as stored."""
    with app.app_context():
        filers, reviewer = {"KZ": people["kz"].id, "CN": people["cn"].id}, people["reviewer"].id
        ids = []
        for n, text in enumerate(AWKWARD):
            status = ("accepted", "submitted", "draft", "returned")[n % 4]
            code = ("KZ", "CN")[n % 2]
            submission_id, _ = make_exercise(filers[code], reviewer, status, code,
                                             designation_en=f"Exercise {n}")
            ids.append(submission_id)
            revision_ids = select(Revision.id).where(Revision.submission_id == submission_id)
            db.session.execute(update(ExerciseDetails).where(ExerciseDetails.revision_id.in_(revision_ids)).values(
                designation_en=text, border_segment="" if n % 3 else text, latitude=FLOATS[n % len(FLOATS)],
                longitude=FLOATS[(n + 3) % len(FLOATS)], observers_invited=bool(n % 2),
                troops_total=None if n % 5 == 0 else 2**31 - 1 - n))
            whole_second = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
            if status != "draft":
                db.session.execute(update(Submission).where(Submission.id == submission_id).values(
                    submitted_at=whole_second if n % 2 else whole_second.replace(microsecond=123456)))
        db.session.commit()
        return ids


def both_ways(person_id: int, args=()) -> tuple[bytes, bytes]:
    prepared = DATASETS["exercises"].prepare(user(person_id), MultiDict(list(args)))
    generic, by_sql = io.BytesIO(), io.BytesIO()
    rows = write_csv(prepared.columns, prepared.rows(), generic)
    lines = write_csv_lines(prepared.columns, prepared.csv_lines(), by_sql)
    assert rows == lines
    return generic.getvalue(), by_sql.getvalue()


@pytest.mark.parametrize("who", ["auditor", "kz", "cn", "reviewer"])
def test_the_database_writes_the_same_csv_as_the_generic_writer(app, people, awkward, who):
    with app.app_context():
        generic, by_sql = both_ways(people[who].id)
    assert by_sql == generic
    assert len(list(csv.reader(io.StringIO(by_sql.decode("utf-8"))))) > 1


@pytest.mark.parametrize("args", [[("state", "KZ")], [("q", "quote")], [("sort", "reference")],
                                  [("status", "accepted"), ("status", "draft")]])
def test_the_same_with_the_lists_filters(app, people, awkward, args):
    with app.app_context():
        generic, by_sql = both_ways(people["auditor"].id, args)
    assert by_sql == generic


def test_formulas_are_neutralised_and_cells_survive_a_csv_reader(app, people, awkward):
    with app.app_context():
        _generic, by_sql = both_ways(people["auditor"].id)
    rows = list(csv.DictReader(io.StringIO(by_sql.decode("utf-8"), newline="")))
    designations = {row["designation_en"] for row in rows}
    assert "'=HYPERLINK(\"http://example.org\")" in designations
    assert {"'+7 701 000 0000", "'-1", "'@SUM(A1)", "'\tTabbed", "'\rReturned", "'="} <= designations
    assert {"comma, inside", 'say "hello"', "two\nlines", "two\r\nlines", "Учение «Мир», 和平使命"} <= designations
    texts = [row[name] for row in rows for name in ("designation_en", "border_segment")]
    assert not any(value[:1] in "=+-@\t\r" for value in texts if value)
    assert "-0.5" in {row["latitude"] for row in rows}  # numbers are numbers, not neutralised
    assert by_sql.startswith(b"reference,state,status,version,")
    assert by_sql.endswith(b"\r\n")


def test_an_exercise_csv_export_takes_the_database_path(app, people, awkward, monkeypatch):
    """The generic writer is not called for an exercise CSV: the lines come from the database."""
    from registry.exports import writers
    from registry.services import exports

    def refuse(*_args):
        raise AssertionError("the generic CSV writer was used")

    monkeypatch.setitem(writers.FORMATS, "csv", (refuse, "text/csv", "csv"))
    with app.app_context():
        actor = user(people["auditor"].id)
        out = io.BytesIO()
        result = exports.write(actor, "exercises", "csv", exports.prepare(actor, "exercises", "csv", MultiDict()), out)
        db.session.rollback()
    assert result.rows == len(AWKWARD)  # auditors read every record, drafts included
    assert result.size == len(out.getvalue())


def test_copy_text_becomes_csv_lines():
    from registry.exports.sql_csv import _from_copy_text

    block = _from_copy_text(b'a,"two\\r\\nlines"\nb,\\ttab\\\\x\n', 2)
    assert block.lines == 2
    assert block.data == b'a,"two\r\nlines"\r\nb,\ttab\\x\r\n'


@pytest.mark.parametrize("path", ["copy", "cursor"])
def test_both_reading_paths_give_the_same_lines(app, people, awkward, monkeypatch, path):
    """PostgreSQL reads the lines with COPY unless a filter value is of a type the driver might write otherwise;
    then through a cursor. SQLite always reads through a cursor. Every path gives the generic writer's bytes."""
    from registry.exports import sql_csv

    taken = []
    copy_blocks = sql_csv._copy_blocks

    def spy(stmt):
        blocks = copy_blocks(stmt)
        taken.append(blocks is not None)
        return blocks

    monkeypatch.setattr(sql_csv, "_copy_blocks", spy)
    if path == "cursor":
        monkeypatch.setattr(sql_csv, "_PLAIN_PARAMETERS", ())
    with app.app_context():
        generic, by_sql = both_ways(people["auditor"].id, [("state", "KZ"), ("q", "a")])
        postgresql = db.engine.dialect.name == "postgresql"
    assert by_sql == generic and generic.count(b"\r\n") > 2
    assert taken == ([path == "copy"] if postgresql else [])
