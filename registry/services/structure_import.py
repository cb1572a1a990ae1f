"""Import of a whole ministry structure from a CSV or XLSX file, with the template to fill in.

One sheet, one row per ministry name, unit, post or holder (the `type` column says which). Units name their
parent unit's key, posts their unit's key, holders their post's key. Every problem is reported with its row and
column; nothing is stored unless the whole file is valid (`parse` raises ImportFailed with all of them, and the
route calls `structures.replace_tree` only with a clean result).
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NoReturn

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from registry.enums import PositionKind, UnitKind
from registry.i18n import _
from registry.models.structure import NAME_MAX, SHORT_MAX
from registry.services.errors import ValidationFailed
from registry.services.structures import KEY_PATTERN, MAX_UNITS, cycle_keys
from registry.services.validation import control_character_message

MAX_BYTES = 2 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 20_000
MAX_PROBLEMS = 200  # beyond this the list stops: the file needs fixing as a whole
COLUMNS = ("type", "key", "parent", "kind", "name_ru", "name_zh", "name_latin", "name_native", "hq_location",
           "rank", "appointed_on", "left_on")
TYPES = ("ministry", "unit", "position", "holder")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Problem:
    row: int
    column: str  # a column name from COLUMNS, or "" for the whole row / file
    message: str

    def where(self, header: list[str]) -> str:
        if self.row == 0:
            return _("The file")
        if self.column and self.column in header:
            letter = get_column_letter(header.index(self.column) + 1)
            return _("Row %(row)d, column %(letter)s (%(name)s)", row=self.row, letter=letter, name=self.column)
        return _("Row %(row)d", row=self.row)


class ImportFailed(ValidationFailed):
    """The file was refused; `problems` lists every one with its row and column."""

    def __init__(self, problems: list[Problem], header: list[str] | None = None):
        self.problems = problems
        self.header = header or list(COLUMNS)
        super().__init__({"file": [f"{p.where(self.header)}: {p.message}" for p in problems]})

    @property
    def lines(self) -> list[str]:
        return self.errors["file"]


@dataclass
class Parsed:
    ministry: dict[str, str] = field(default_factory=dict)
    units: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    holders: list[dict[str, Any]] = field(default_factory=list)


# --- reading the file ---------------------------------------------------------------------------------------


def _refuse(message: str) -> NoReturn:
    raise ImportFailed([Problem(0, "", message)])


def check_filename(filename: str) -> None:
    name = filename or ""
    if not name or "/" in name or "\\" in name or ".." in name or control_character_message(name):
        _refuse(_("Send the file under a plain file name, without a folder path."))
    if len(name) > 200:
        _refuse(_("The file name is too long."))


def read_rows(content: bytes) -> list[list[Any]]:
    """The file's rows as lists of cell values; the kind of file is told from its content, not its name."""
    if not content:
        _refuse(_("The file is empty."))
    if len(content) > MAX_BYTES:
        _refuse(_("The file is larger than %(n)d MB.", n=MAX_BYTES // (1024 * 1024)))
    if content.startswith(b"PK\x03\x04"):
        return _xlsx_rows(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        _refuse(_("The file is neither an XLSX workbook nor a CSV file in UTF-8."))
    if "\x00" in text:
        _refuse(_("The file is neither an XLSX workbook nor a CSV file in UTF-8."))
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        _refuse(_("The CSV file could not be read: check its quotes."))
    return rows[: MAX_ROWS + 2]


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    not_a_workbook = _("The file is neither an XLSX workbook nor a CSV file in UTF-8.")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        _refuse(not_a_workbook)
    if unpacked > MAX_UNPACKED_BYTES:  # a small file that unpacks to gigabytes (a "zip bomb")
        _refuse(_("The workbook is too large once unpacked."))
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            rows = []
            for row in book.worksheets[0].iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > MAX_ROWS + 1:
                    break
            return rows
        finally:
            book.close()
    except (zipfile.BadZipFile, KeyError, IndexError, ValueError, TypeError, OSError, SyntaxError,
            InvalidFileException):  # SyntaxError: broken XML inside the zip (ElementTree's ParseError)
        _refuse(not_a_workbook)


# --- checking the rows --------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Rows:
    def __init__(self, header: list[str]):
        self.header = header
        self.problems: list[Problem] = []

    def add(self, row: int, column: str, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(row, column, message))

    def text(self, n: int, cells: dict[str, str], column: str, max_length: int) -> str:
        value = cells.get(column, "")
        message = control_character_message(value)
        if message:
            self.add(n, column, message)
        elif len(value) > max_length:
            self.add(n, column, _("At most %(n)d characters.", n=max_length))
        return value  # kept as read, so that one problem is reported once (nothing is stored when there is one)

    def key(self, n: int, cells: dict[str, str], column: str, required: bool = True) -> str | None:
        value = cells.get(column, "")
        if not value:
            if required:
                self.add(n, column, _("This field is required."))
            return None
        if not KEY_PATTERN.fullmatch(value):
            self.add(n, column, _("A key is 1 to 40 letters, digits, dots, dashes or underscores."))
            return None
        return value

    def date(self, n: int, cells: dict[str, str], column: str, required: bool) -> date | None:
        value = cells.get(column, "")
        if not value:
            if required:
                self.add(n, column, _("This field is required."))
            return None
        try:
            return date.fromisoformat(value[:10]) if len(value) in (10, 19) else date.fromisoformat(value)
        except ValueError:
            self.add(n, column, _("Enter a date as YYYY-MM-DD."))
            return None

    def names(self, n: int, ru: str, zh: str, latin: str) -> None:
        if not (ru or zh):
            self.add(n, "name_ru", _("Give the name in Russian or Chinese."))
        if not latin:
            self.add(n, "name_latin", _("Give the name in Latin script."))


def parse(content: bytes, filename: str, as_of: date) -> Parsed:
    """The file checked as a whole: a Parsed structure, or ImportFailed listing every problem."""
    check_filename(filename)
    rows = read_rows(content)
    if not rows or not any(_text(c) for c in rows[0]):
        _refuse(_("The first row must name the columns, as in the template."))
    header = [_text(c).lower() for c in rows[0]]
    while header and not header[-1]:
        header.pop()
    checker = _Rows(header)
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    for name in missing:
        checker.add(1, "", _("The column %(name)s is missing.", name=name))
    for name in unknown:
        checker.add(1, name, _("Unknown column; the template's columns are: %(names)s.", names=", ".join(COLUMNS)))
    if len(set(header)) != len(header):
        checker.add(1, "", _("A column is named twice."))
    if checker.problems:
        raise ImportFailed(checker.problems, header)
    if len(rows) > MAX_ROWS + 1:
        _refuse(_("The file has more than %(n)d rows.", n=MAX_ROWS))

    parsed = Parsed()
    unit_rows: dict[str, int] = {}
    position_rows: dict[str, int] = {}
    position_unit: dict[str, str] = {}
    pending_holders: list[tuple[int, dict]] = []
    pending_positions: list[tuple[int, dict]] = []
    for n, raw in enumerate(rows[1:], start=2):
        cells = {name: _text(raw[i]) if i < len(raw) else "" for i, name in enumerate(header)}
        if not any(cells.values()):
            continue
        kind_of_row = cells["type"].lower()
        if kind_of_row not in TYPES:
            checker.add(n, "type", _("Write one of: %(types)s.", types=", ".join(TYPES)))
            continue
        names = {c: checker.text(n, cells, c, NAME_MAX) for c in ("name_ru", "name_zh", "name_latin", "name_native")}
        if kind_of_row == "ministry":
            checker.names(n, names["name_ru"], names["name_zh"], names["name_latin"])
            parsed.ministry = {"ru": names["name_ru"], "zh": names["name_zh"], "en": names["name_latin"],
                               "native": names["name_native"]}
        elif kind_of_row == "unit":
            key = checker.key(n, cells, "key")
            if key and key in unit_rows:
                checker.add(n, "key", _("The key %(key)s is already used in row %(row)d.", key=key, row=unit_rows[key]))
                key = None
            parent = checker.key(n, cells, "parent", required=False)
            kind = _enum(checker, n, cells, UnitKind)
            checker.names(n, names["name_ru"], names["name_zh"], names["name_latin"])
            hq = checker.text(n, cells, "hq_location", SHORT_MAX)
            if key:
                unit_rows[key] = n
                parsed.units.append({"key": key, "parent": parent, "kind": kind, "name_ru": names["name_ru"],
                                     "name_zh": names["name_zh"], "name_en": names["name_latin"], "hq_location": hq,
                                     "row": n})
        elif kind_of_row == "position":
            key = checker.key(n, cells, "key")
            if key and key in position_rows:
                checker.add(n, "key", _("The key %(key)s is already used in row %(row)d.", key=key,
                                        row=position_rows[key]))
                key = None
            unit = checker.key(n, cells, "parent")
            kind = _enum(checker, n, cells, PositionKind)
            if key:
                position_rows[key] = n
                if unit:
                    position_unit[key] = unit
                pending_positions.append((n, {"key": key, "unit": unit, "kind": kind, "title_ru": names["name_ru"],
                                              "title_zh": names["name_zh"], "title_en": names["name_latin"]}))
        else:
            position = checker.key(n, cells, "parent")
            checker.names(n, names["name_ru"], names["name_zh"], names["name_latin"])
            appointed = checker.date(n, cells, "appointed_on", required=True)
            left = checker.date(n, cells, "left_on", required=False)
            rank = checker.text(n, cells, "rank", SHORT_MAX)
            if appointed and appointed > as_of:
                checker.add(n, "appointed_on", _("Appointed after the as-of date %(date)s.", date=as_of.isoformat()))
            if appointed and left and left < appointed:
                checker.add(n, "left_on", _("Left before being appointed."))
            pending_holders.append((n, {"position": position, "name_ru": names["name_ru"],
                                        "name_zh": names["name_zh"], "name_latin": names["name_latin"],
                                        "name_native": names["name_native"], "rank": rank, "appointed_on": appointed,
                                        "left_on": left}))

    for unit in parsed.units:
        if unit["parent"] and unit["parent"] not in unit_rows:
            checker.add(unit["row"], "parent", _("Unknown parent unit %(key)s.", key=unit["parent"]))
    parents = {u["key"]: u["parent"] if u["parent"] in unit_rows else None for u in parsed.units}
    for key in sorted(cycle_keys(parents), key=lambda k: unit_rows[k]):
        checker.add(unit_rows[key], "parent", _("Unit %(key)s is placed under itself (a cycle).", key=key))
    if len(parsed.units) > MAX_UNITS:
        checker.add(0, "", _("A chart can hold at most %(n)d units.", n=MAX_UNITS))
    for n, position in pending_positions:
        if position["unit"] and position["unit"] not in unit_rows:
            checker.add(n, "parent", _("Unknown unit %(key)s.", key=position["unit"]))
        parsed.positions.append(position)
    current: dict[str, int] = {}
    for n, holder in pending_holders:
        key = holder["position"]
        if key and key not in position_rows:
            checker.add(n, "parent", _("Unknown post %(key)s.", key=key))
        elif key and holder["left_on"] is None and holder["appointed_on"] is not None:
            if key in current:
                checker.add(n, "left_on", _("Post %(key)s already has a current holder in row %(row)d: give the "
                                            "date one of them left.", key=key, row=current[key]))
            current[key] = current.get(key, n)
        parsed.holders.append(holder)
    if not parsed.units and not checker.problems:
        checker.add(0, "", _("The file lists no unit."))
    if checker.problems:
        raise ImportFailed(sorted(checker.problems, key=lambda p: (p.row, COLUMNS.index(p.column)
                                                                   if p.column in COLUMNS else -1)), header)
    for unit in parsed.units:
        unit.pop("row")
    return parsed


def _enum(checker: _Rows, n: int, cells: dict[str, str], enum_cls):
    try:
        return enum_cls(cells.get("kind", "").lower())
    except ValueError:
        checker.add(n, "kind", _("Write one of: %(kinds)s.", kinds=", ".join(m.value for m in enum_cls)))
        return None


# --- the template -------------------------------------------------------------------------------------------

EXAMPLE_ROWS = [
    ("ministry", "", "", "", "Министерство обороны", "国防部", "Ministry of Defence", "", "", "", "", ""),
    ("unit", "MOD", "", "ministry", "Министерство обороны", "国防部", "Ministry of Defence", "", "Capital", "", "", ""),
    ("position", "MIN", "MOD", "minister", "Министр обороны", "国防部长", "Minister of Defence", "", "", "", "", ""),
    ("holder", "", "MIN", "", "Иванов Иван", "", "Ivanov Ivan", "", "", "General", "2024-03-01", ""),
    ("unit", "GS", "MOD", "general_staff", "Генеральный штаб", "总参谋部", "General Staff", "", "Capital", "", "",
     ""),
    ("position", "CGS", "GS", "chief_of_general_staff", "Начальник Генерального штаба", "",
     "Chief of the General Staff", "", "", "", "", ""),
    ("unit", "ICD", "MOD", "directorate", "Управление международного сотрудничества", "", "International "
     "Cooperation Directorate", "", "Capital", "", "", ""),
    ("position", "ICC", "ICD", "cooperation_contact", "Начальник управления", "", "Head of directorate", "", "", "",
     "", ""),
]


def _formula_safe(value: str) -> str:
    """Spreadsheet formula injection: a cell that starts like a formula is written as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t") else value


def template_csv() -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows([[_formula_safe(c) for c in row] for row in EXAMPLE_ROWS])
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "structure"
    sheet.append(list(COLUMNS))
    for row in EXAMPLE_ROWS:
        sheet.append([_formula_safe(c) for c in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
