"""CSV lines written by the database itself, for datasets of plain columns (the million-row exercise export).

Python's share of a CSV export is what makes it slow: building 40 objects per row out of the driver and
handing them to the csv module costs three to five times what the database spends reading the rows
(docs/benchmarks.md). Here the query returns one text column, the finished CSV line: each cell formatted,
neutralised against formula injection and quoted in SQL, on SQLite and on PostgreSQL alike, so Python only
joins lines and writes bytes. The output is byte for byte what `writers.write_csv` makes of the same rows
(tests/test_export_sql_csv.py checks it on both backends), with one exception: on SQLite a float is printed with
15 significant digits (SQLite's own text form; ample for coordinates, which the forms take to six decimals) and
a very small one as `1.0e-05` where Python writes `1e-05`.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import BinaryIO, NamedTuple

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    Integer,
    LargeBinary,
    String,
    Text,
    case,
    cast,
    func,
    literal_column,
    or_,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from registry.db import UTCDateTime, db
from registry.exports.writers import FORMULA_PREFIXES

BATCH = 10_000  # lines read and written at a time (about 4 MB)


def _text(value: str) -> ColumnElement:
    """A constant written into the SQL itself (not a bound parameter: some are hundreds per line)."""
    return literal_column("'" + value.replace("'", "''") + "'", String)


class _Dialect:
    """The few spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, name: str):
        self.postgresql = name == "postgresql"

    def char(self, code: int) -> ColumnElement:
        return func.chr(code) if self.postgresql else func.char(code)

    def contains(self, value, part) -> ColumnElement:
        return (func.strpos(value, part) if self.postgresql else func.instr(value, part)) > 0


def _prefix_char(sql: _Dialect, character: str) -> ColumnElement:
    return sql.char(ord(character)) if character in "\t\r" else _text(character)


def _text_cell(column, sql: _Dialect) -> ColumnElement:
    """As `writers._csv_cell` and the csv module do it: a leading apostrophe for a formula, then RFC 4180 quotes
    around a cell holding a comma, a double quote or a line break (and its double quotes doubled)."""
    shown = case((func.substr(column, 1, 1).in_([_prefix_char(sql, c) for c in FORMULA_PREFIXES]),
                  _text("'") + column), else_=column)
    needs_quotes = or_(*(sql.contains(column, part) for part in (_text(","), _text('"'), sql.char(13), sql.char(10))))
    return case((needs_quotes, _text('"') + func.replace(shown, _text('"'), _text('""')) + _text('"')), else_=shown)


def _timestamp_cell(column, sql: _Dialect) -> ColumnElement:
    """ISO 8601 in UTC as Python's isoformat() writes it: microseconds only when there are some."""
    if sql.postgresql:
        shown = func.to_char(func.timezone(_text("UTC"), column), _text('YYYY-MM-DD"T"HH24:MI:SS.US'))
    else:  # SQLAlchemy keeps UTC on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff'
        shown = func.replace(cast(column, String), _text(" "), _text("T"))
    return func.replace(shown, _text(".000000"), _text("")) + _text("+00:00")


def _float_cell(column, sql: _Dialect) -> ColumnElement:
    if not sql.postgresql:
        return column  # printf('%s') writes '52.0', as Python does
    shown = cast(column, Text)  # the shortest exact form, like Python's repr, but '52' for 52.0
    return shown + case((column == func.trunc(column), _text(".0")), else_=_text(""))


def _plain_values(kind) -> bool:
    """An Enum whose every value is safe as it stands (no formula start, nothing to quote) needs no treatment."""
    values = getattr(kind, "enums", None)
    return bool(values) and not any(v[:1] in FORMULA_PREFIXES or any(c in v for c in ',"\r\n') for v in values)


def _cell(column, sql: _Dialect) -> ColumnElement:
    """The cell's text, or NULL for an empty cell."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _timestamp_cell(column, sql)
    if isinstance(kind, Boolean):
        return case((column.is_(True), _text("true")), (column.is_(False), _text("false")))
    if isinstance(kind, Date):
        return func.to_char(column, _text("YYYY-MM-DD")) if sql.postgresql else column
    if isinstance(kind, String):  # Text and Enum included
        return column if _plain_values(kind) else _text_cell(column, sql)
    if isinstance(kind, Float):
        return _float_cell(column, sql)
    if isinstance(kind, Integer):
        return column
    # A new column type must be taught here, never written in a form nobody checked.
    raise TypeError(f"no CSV form for column {column} of type {kind!r}")


# Functions take at most 100 arguments on PostgreSQL and 127 on SQLite: longer lines are made of pieces.
_PIECE = 40


def _join(cells: list, sql: _Dialect) -> ColumnElement:
    """The cells with commas between them, NULL as an empty cell, built in one allocation per piece: a chain
    of `||` copies the growing line once per cell, which made SQLite twice as slow as its own CSV dump."""
    if sql.postgresql:  # concat() reads NULL as ''
        arguments = [part for cell in cells for part in (_text(","), cell)][1:]
        return func.concat(*arguments)
    # SQLite's printf('%s') writes NULL as '' and a number as CAST(... AS TEXT) does ('52.0', '7').
    return func.printf(_text(",".join(["%s"] * len(cells))), *cells)


def csv_line(columns: Sequence, dialect_name: str) -> ColumnElement:
    """One SQL expression giving the finished CSV line (without its line end) of `columns`."""
    sql = _Dialect(dialect_name)
    cells = [_cell(column, sql) for column in columns]
    pieces = [_join(cells[i:i + _PIECE], sql) for i in range(0, len(cells), _PIECE)]
    line = pieces[0]
    for piece in pieces[1:]:
        line = line + _text(",") + piece
    return line.label("csv_line")


class Block(NamedTuple):
    """Finished CSV lines: their UTF-8 bytes, each ending in CRLF, and how many there are."""

    data: bytes
    lines: int


# Values a bound parameter may have on the COPY path: what psycopg writes exactly as SQLAlchemy would.
_PLAIN_PARAMETERS = (int, str, float, bool, date, datetime, type(None))

# COPY's text format writes a backslash, a tab and line breaks inside a value as two-character escapes, so an
# unescaped newline always ends a row (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format").
_COPY_ESCAPE = re.compile(rb"\\([\\bfnrtv])")
_COPY_UNESCAPED = {b"\\": b"\\", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}


def _from_copy_text(data: bytes, rows: int) -> Block:
    """`rows` rows of COPY's text format (each ending in a newline) as CSV lines ending in CRLF."""
    data = data.replace(b"\n", b"\r\n")  # the escaped line breaks are still two characters here
    if b"\\" in data:
        data = _COPY_ESCAPE.sub(lambda match: _COPY_UNESCAPED[match.group(1)], data)
    return Block(data, rows)


def _copy_blocks(lines_stmt) -> Iterator[Block] | None:
    """PostgreSQL's COPY of the lines, as psql's \\copy reads them (one stream, no cursor round trips); None where
    a parameter is not of a plain type the driver writes as SQLAlchemy would (then the cursor path is taken)."""
    dialect = db.engine.dialect
    compiled = lines_stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    parameters = {}
    for name, value in compiled.construct_params().items():
        bind = compiled.binds.get(name)  # None for the members of an expanded IN list: plain values
        process = bind.type.bind_processor(dialect) if bind is not None else None
        parameters[name] = process(value) if process else value  # an enum member to its stored value, say
    if any(type(value) not in _PLAIN_PARAMETERS for value in parameters.values()):
        return None
    connection = db.session.connection().connection.dbapi_connection

    def blocks() -> Iterator[Block]:
        with connection.cursor() as cursor, cursor.copy(f"COPY ({compiled.string}) TO STDOUT",
                                                        parameters) as copy:
            # Each row is copied out of its message at once: keeping the messages' buffers alive until a block is
            # complete cost a third more time than the copy (measured, 100 thousand rows).
            pending, rows = bytearray(), 0
            for row in copy:  # one message per row
                pending += row
                rows += 1
                if rows == BATCH:
                    yield _from_copy_text(bytes(pending), rows)
                    pending, rows = bytearray(), 0
            if rows:
                yield _from_copy_text(bytes(pending), rows)
    return blocks()


def stream_lines(stmt) -> Callable[[], Iterator[Block]]:
    """Blocks of CSV lines of `stmt`'s selected columns, in its order, streamed (COPY on PostgreSQL, a cursor
    on SQLite), so memory stays flat whatever the row count."""
    def blocks() -> Iterator[Block]:
        dialect = db.engine.dialect.name
        line = csv_line(list(stmt.selected_columns), dialect)
        if dialect == "postgresql":
            # Floats in their shortest exact form whatever the server's setting; and, on the cursor path, a plan
            # for reading every row (a cursor is otherwise planned to return its first 10% fast).
            db.session.execute(text("SET LOCAL extra_float_digits = 1"))
            db.session.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
            copied = _copy_blocks(stmt.with_only_columns(line, maintain_column_froms=True))
            if copied is not None:
                yield from copied
                return
        else:  # the line's UTF-8 bytes as SQLite holds them: no decoding and encoding again
            line = cast(line, LargeBinary)
        lines = stmt.with_only_columns(line, maintain_column_froms=True)
        # Core, not the ORM: no entity loading machinery for what is one string per row.
        with db.session.connection().execute(lines.execution_options(yield_per=BATCH)) as result:
            for batch in result.scalars().partitions():
                if batch and not isinstance(batch[0], bytes):
                    batch = [line.encode("utf-8") for line in batch]
                yield Block(b"\r\n".join(batch) + b"\r\n", len(batch))
    return blocks


def write_csv_lines(columns: Sequence[str], blocks: Iterable[Block], out: BinaryIO) -> int:
    """The header, then each block of lines, CRLF-terminated (RFC 4180), UTF-8 without a byte-order mark."""
    out.write((",".join(columns) + "\r\n").encode("utf-8"))
    count = 0
    for block in blocks:
        if block.lines:
            out.write(block.data)
            count += block.lines
    return count
