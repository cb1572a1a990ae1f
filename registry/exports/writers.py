"""Writers of one export format each, all with the same signature: `write(columns, rows, out)`.

`columns` are language-neutral names (the reference number first); `rows` is an iterable of tuples in that order,
read lazily so a million rows never sit in memory; `out` is a binary file. Each writer returns the row count.
Text that a spreadsheet would run as a formula is neutralised in CSV and XLSX (OWASP "CSV injection").
"""

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, BinaryIO

# A cell beginning with one of these is taken as a formula by Excel, LibreOffice or Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Text shown as typed instead of run: a leading apostrophe, the spreadsheet's own "this is text" mark."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def plain(value: Any) -> Any:
    """A JSON-safe, language-neutral form of a cell: enums by their value, dates in ISO 8601."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _text_cell(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return neutralise(json.dumps(value, ensure_ascii=False, sort_keys=True))
    return value


_FORMULA_START = frozenset(FORMULA_PREFIXES)


def _csv_cell(value: Any) -> Any:
    """The common cases first, by exact type (this runs for every cell of a million rows)."""
    kind = type(value)
    if kind is str:
        return "'" + value if value[:1] in _FORMULA_START else value
    if kind is int or kind is float:
        return value
    if value is None:
        return ""
    return _text_cell(value)


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO) -> int:
    """RFC 4180: comma, double quotes, CRLF line ends; UTF-8 without a byte-order mark."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    writer = csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(cell) for cell in row])
        count += 1
    text.flush()
    text.detach()  # leave `out` open for the caller
    return count


def _json_row(columns: Sequence[str], row: Sequence[Any]) -> bytes:
    return json.dumps({c: plain(v) for c, v in zip(columns, row, strict=True)}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def write_json(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO) -> int:
    """One JSON document: {"columns": [...], "rows": [{...}, ...]}, written row by row."""
    out.write(b'{"columns":' + json.dumps(list(columns)).encode() + b',"rows":[')
    count = 0
    for row in rows:
        out.write((b"," if count else b"\n") + _json_row(columns, row))
        count += 1
    out.write(b"\n]}\n")
    return count


def write_jsonl(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO) -> int:
    """JSON Lines: one object per line, for big sets and line-by-line tools."""
    count = 0
    for row in rows:
        out.write(_json_row(columns, row) + b"\n")
        count += 1
    return count


def write_xlsx(columns: Sequence[str], rows: Iterable[Sequence[Any]], out: BinaryIO) -> int:
    """openpyxl's write-only mode: rows go to a temporary file as they come, not into memory."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("export")
    sheet.append(list(columns))
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(cell) for cell in row])
        count += 1
    workbook.save(out)
    return count


# Characters XML 1.0 (and so XLSX) cannot hold; PostgreSQL and the forms refuse them too, but an export must
# never fail on an old row.
_XML_ILLEGAL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)], "\ufffd")


def _xlsx_cell(value: Any) -> Any:
    value = _text_cell(value)
    if isinstance(value, str):
        return value.translate(_XML_ILLEGAL)
    return value


FORMATS: dict[str, tuple[Callable, str, str]] = {
    # format -> (writer, media type, file extension)
    "csv": (write_csv, "text/csv; charset=utf-8", "csv"),
    "json": (write_json, "application/json", "json"),
    "jsonl": (write_jsonl, "application/x-ndjson", "jsonl"),
    "xlsx": (write_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
