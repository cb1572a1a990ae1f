"""The export formats: RFC 4180 CSV, JSON, JSON Lines and XLSX, with spreadsheet formulas neutralised."""

import csv
import io
import json
from datetime import date

import pytest

from registry.enums import SubmissionStatus
from registry.exports.writers import FORMATS, neutralise, write_csv, write_json, write_jsonl, write_xlsx

COLUMNS = ["reference", "state", "designation", "start_date", "troops", "status"]
ROWS = [
    ("EXN-2026-0001", "KZ", "Тянь-Шань, \"зима\"\r\nдва", date(2026, 5, 1), 14000, SubmissionStatus.ACCEPTED),
    ("EXN-2026-0002", "CN", "和平使命", None, None, SubmissionStatus.DRAFT),
    ("EXN-2026-0003", "RU", "=HYPERLINK(\"http://evil.example\",\"x\")", date(2026, 6, 1), 0,
     SubmissionStatus.SUBMITTED),
]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"a\")"])
def test_formula_prefixes_are_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["1+1", "Peace Mission", "", "'=already text", "Мирная миссия"])
def test_plain_text_is_unchanged(text):
    assert neutralise(text) == text


def test_csv_is_rfc_4180_utf8_with_the_reference_first():
    out = io.BytesIO()
    assert write_csv(COLUMNS, iter(ROWS), out) == 3
    data = out.getvalue()
    assert not data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\r\n")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == COLUMNS
    assert rows[1] == ["EXN-2026-0001", "KZ", "Тянь-Шань, \"зима\"\r\nдва", "2026-05-01", "14000", "accepted"]
    assert rows[2][3:5] == ["", ""]
    assert rows[3][2].startswith("'=HYPERLINK")


def test_json_is_one_document_and_jsonl_one_object_per_line():
    out = io.BytesIO()
    assert write_json(COLUMNS, iter(ROWS), out) == 3
    document = json.loads(out.getvalue())
    assert document["columns"] == COLUMNS
    assert document["rows"][0]["designation"].startswith("Тянь-Шань") and document["rows"][1]["troops"] is None
    assert document["rows"][2]["designation"].startswith("=HYPERLINK")  # data, not a spreadsheet: kept as is
    lines = io.BytesIO()
    write_jsonl(COLUMNS, iter(ROWS), lines)
    parsed = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [p["reference"] for p in parsed] == ["EXN-2026-0001", "EXN-2026-0002", "EXN-2026-0003"]
    empty = io.BytesIO()
    assert write_json(COLUMNS, iter([]), empty) == 0 and json.loads(empty.getvalue())["rows"] == []


def test_xlsx_opens_with_the_same_cells_and_neutralised_formulas():
    from openpyxl import load_workbook

    out = io.BytesIO()
    assert write_xlsx(COLUMNS, iter(ROWS + [("EXN-2026-0004", "IN", "bell\x07", None, 1, "draft")]), out) == 4
    sheet = load_workbook(io.BytesIO(out.getvalue()), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == COLUMNS
    # XML keeps line ends as LF (XML 1.0, 2.11): the text is otherwise the same
    assert rows[1][2] == "Тянь-Шань, \"зима\"\nдва" and rows[1][4] == 14000
    assert rows[3][2].startswith("'=HYPERLINK")
    assert rows[4][2] == "bell\ufffd"


def test_every_format_has_a_writer_a_media_type_and_an_extension():
    assert set(FORMATS) == {"csv", "json", "jsonl", "xlsx"}
    for writer, media_type, extension in FORMATS.values():
        assert callable(writer) and "/" in media_type and extension
