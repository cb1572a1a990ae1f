"""Import of a ministry structure from CSV or XLSX: good files, every problem with its exact row and column,
nothing stored unless the whole file is valid, and uploads checked by content (not by name)."""

import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from registry.services import structure_import as imp
from tests.conftest import login
from tests.structure_helpers import HEADER, KYRGYZ_ROWS, kyrgyz_csv, open_disclosure, upload

AS_OF = date(2027, 1, 1)


def problems_of(content: bytes, filename="s.csv") -> list[str]:
    with pytest.raises(imp.ImportFailed) as caught:
        imp.parse(content, filename, AS_OF)
    return caught.value.lines


def xlsx_of(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_good_csv_file_is_read_whole():
    parsed = imp.parse(kyrgyz_csv(), "kg.csv", AS_OF)
    assert [u["key"] for u in parsed.units] == ["MOD", "GS", "ICD", "BT"]
    assert [u["parent"] for u in parsed.units] == [None, "MOD", "MOD", "MOD"]
    assert [p["key"] for p in parsed.positions] == ["MIN", "DEP", "CGS", "ICC"]
    assert parsed.holders[0]["appointed_on"] == date(2024, 1, 10) and parsed.holders[0]["left_on"] is None
    assert parsed.ministry["en"] == "Ministry of Defence of the Kyrgyz Republic"


def test_a_good_xlsx_file_with_real_date_cells_is_read_whole():
    rows = [HEADER.split(",")] + [line.split(",") for line in KYRGYZ_ROWS]
    rows[4][10] = date(2024, 1, 10)  # a date typed in the spreadsheet is a date cell, not text
    parsed = imp.parse(xlsx_of(rows), "kg.xlsx", AS_OF)
    assert len(parsed.units) == 4 and parsed.holders[0]["appointed_on"] == date(2024, 1, 10)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_downloadable_templates_import_as_they_are(kind):
    content = imp.template_csv() if kind == "csv" else imp.template_xlsx()
    parsed = imp.parse(content, f"template.{kind}", AS_OF)
    assert [u["key"] for u in parsed.units] == ["MOD", "GS", "ICD"]
    assert load_workbook(io.BytesIO(imp.template_xlsx())).active["A1"].value == "type"


def test_every_problem_is_reported_with_its_row_and_column():
    rows = list(KYRGYZ_ROWS)
    rows[6] = rows[6].replace("GS,MOD,", "GS,ICD,")  # row 8: GS under ICD ...
    rows[9] = rows[9].replace("ICD,MOD,", "ICD,GS,")  # row 11: ... and ICD under GS: a cycle
    rows[12] = rows[12].replace("BT,MOD,", "BT,NOPE,")  # row 14: unknown parent
    rows.append("holder,,MIN,,Второй Министр,,Second Minister,,,General,2025-01-01,")  # row 15: 2nd current holder
    rows.append("holder,,CGS,,Поздний,,Late Comer,,,Colonel,2027-02-01,2027-03-01")  # row 16: appointed after as-of
    rows.append("holder,,ICC,,Путаница,,Mixed Up,,,Colonel,2020-05-01,2020-04-30")  # row 17: left before appointed
    rows.append("holder,,DEP,,,,Only Latin,,,Colonel,2019-01-01,2020-01-01")  # row 18: neither ru nor zh
    rows.append("unit,XX,MOD,directorate,Без латиницы,,,,,,,")  # row 19: no Latin name
    rows.append("position,P9,ZZ,deputy,Заместитель,,Deputy,,,,,")  # row 20: unknown unit
    rows.append("holder,,P0,,Кто,,Who,,,Colonel,2020-01-01,")  # row 21: unknown post
    rows.append("unit,GS,MOD,galaxy,Штаб,,Staff,,,,,")  # row 22: key used twice, unknown kind
    rows.append("holder,,CGS,,Дата,,Date,,,Colonel,01/02/2020,")  # row 23: not a date
    assert problems_of(kyrgyz_csv(rows)) == [
        "Row 8, column C (parent): Unit GS is placed under itself (a cycle).",
        "Row 11, column C (parent): Unit ICD is placed under itself (a cycle).",
        "Row 14, column C (parent): Unknown parent unit NOPE.",
        "Row 15, column L (left_on): Post MIN already has a current holder in row 5: give the date one of them "
        "left.",
        "Row 16, column K (appointed_on): Appointed after the as-of date 2027-01-01.",
        "Row 17, column L (left_on): Left before being appointed.",
        "Row 18, column E (name_ru): Give the name in Russian or Chinese.",
        "Row 19, column G (name_latin): Give the name in Latin script.",
        "Row 20, column C (parent): Unknown unit ZZ.",
        "Row 21, column C (parent): Unknown post P0.",
        "Row 22, column B (key): The key GS is already used in row 8.",
        "Row 22, column D (kind): Write one of: ministry, general_staff, service, military_district, directorate, "
        "border_troops, other.",
        "Row 23, column K (appointed_on): Enter a date as YYYY-MM-DD.",
    ]


def test_columns_in_another_order_are_reported_by_their_own_letter():
    header = "key,type,parent,kind,name_ru,name_zh,name_latin,name_native,hq_location,rank,appointed_on,left_on"
    content = (header + "\nMOD,unit,GONE,ministry,МО,,MoD,,,,,\n").encode()
    assert problems_of(content) == ["Row 2, column C (parent): Unknown parent unit GONE."]


def test_the_header_must_name_the_template_columns():
    content = b"type,key,parent,kind,colour\nunit,MOD,,ministry\n"
    lines = problems_of(content)
    assert "Row 1: The column name_ru is missing." in lines
    assert lines[-1].startswith("Row 1, column E (colour): Unknown column")


@pytest.mark.parametrize(("content", "filename", "message"), [
    (b"", "s.csv", "The file: The file is empty."),
    (b"\xff\xfe\x00t\x00y", "s.csv", "The file: The file is neither an XLSX workbook nor a CSV file in UTF-8."),
    (b"type,key\x00", "s.csv", "The file: The file is neither an XLSX workbook nor a CSV file in UTF-8."),
    (b"PK\x03\x04 not really a zip", "s.xlsx", "The file: The file is neither an XLSX workbook nor a CSV file in "
                                               "UTF-8."),
    (b"x" * (imp.MAX_BYTES + 1), "s.csv", "The file: The file is larger than 2 MB."),
    (kyrgyz_csv(), "../../etc/s.csv", "The file: Send the file under a plain file name, without a folder path."),
    (kyrgyz_csv(), "C:\\Users\\s.csv", "The file: Send the file under a plain file name, without a folder path."),
    (kyrgyz_csv(), "s\r\n.csv", "The file: Send the file under a plain file name, without a folder path."),
])
def test_bad_uploads_are_refused_with_a_clear_message(content, filename, message):
    assert problems_of(content, filename) == [message]


def _zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("files", [
    {"a.txt": b"x"},
    {"[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'},
    {"[Content_Types].xml": b"garbage<"},
], ids=["no-content-types", "no-workbook", "broken-xml"])
def test_a_zip_that_is_not_a_workbook_is_refused(files):
    assert problems_of(_zip(files), "s.xlsx") == [
        "The file: The file is neither an XLSX workbook nor a CSV file in UTF-8."]


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    bomb = _zip({"xl/sharedStrings.xml": b"\0" * (imp.MAX_UNPACKED_BYTES + 1)})
    assert len(bomb) < imp.MAX_BYTES
    assert problems_of(bomb, "s.xlsx") == ["The file: The workbook is too large once unpacked."]


def test_a_csv_file_named_xlsx_is_read_by_its_content():
    assert len(imp.parse(kyrgyz_csv(), "really-a-csv.xlsx", AS_OF).units) == 4


def test_control_characters_and_over_long_names_are_refused_in_their_cell():
    rows = list(KYRGYZ_ROWS)
    rows[1] = rows[1].replace("Министерство обороны,", "Министерство\x07обороны,")
    rows[6] = rows[6].replace("General Staff", "G" * 301)
    assert problems_of(kyrgyz_csv(rows)) == [
        "Row 3, column E (name_ru): Remove the control characters from this field.",
        "Row 8, column G (name_latin): At most 300 characters.",
    ]


def test_a_refused_file_stores_nothing_and_a_good_one_replaces_the_chart(app, client, make_user):
    officer = make_user("officer", "KG")
    login(client, officer)
    reference = open_disclosure(client, 2027)
    assert upload(client, reference, kyrgyz_csv()).status_code == 302
    rows = [r.replace("Border Troops", "Border Guard") for r in KYRGYZ_ROWS] + ["unit,EXTRA,NOWHERE,other,Х,,X,,,,,"]
    response = upload(client, reference, kyrgyz_csv(rows))
    assert response.status_code == 422
    assert "Row 15, column C (parent): Unknown parent unit NOWHERE." in response.get_data(as_text=True)
    edit = client.get(f"/structures/{reference}/edit").get_data(as_text=True)
    assert "Border Troops" in edit and "Border Guard" not in edit and "Units (4)" in edit


def test_an_upload_without_a_file_or_with_a_path_name_is_refused_on_the_page(app, client, make_user):
    login(client, make_user("officer", "KG"))
    reference = open_disclosure(client, 2027)
    response = upload(client, reference, kyrgyz_csv(), filename="../kg.csv")
    assert response.status_code == 422
    assert "without a folder path" in response.get_data(as_text=True)


def test_a_file_imported_over_a_copied_tree_replaces_it(app, make_user):
    """Next year's disclosure starts as a copy of the accepted one; importing a file over it replaced nothing and
    answered 500 (the session was told to forget each post twice: found by the browser test)."""
    from tests.structure_helpers import act, save_and_submit

    officer, reviewer = make_user("officer", "KG"), make_user("secretariat")
    kg, secretariat = app.test_client(), app.test_client()
    assert login(kg, officer).status_code == 302 and login(secretariat, reviewer).status_code == 302
    first = open_disclosure(kg, 2027)
    assert upload(kg, first, kyrgyz_csv()).status_code == 302
    assert save_and_submit(kg, first).status_code == 302
    assert act(secretariat, first, "accept").status_code == 302

    second = open_disclosure(kg, 2028)
    assert "Units (4)" in kg.get(f"/structures/{second}/edit").get_data(as_text=True)  # the copy
    rows = [row for row in KYRGYZ_ROWS if not row.startswith("unit,BT,")]
    response = upload(kg, second, kyrgyz_csv(rows))
    assert response.status_code == 302
    edit = kg.get(f"/structures/{second}/edit").get_data(as_text=True)
    assert "Imported 3 units, 4 posts and 4 holders." in edit and "Units (3)" in edit
    assert "Border Troops" not in edit
