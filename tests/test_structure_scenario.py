"""Issue 5, "done when": Kyrgyzstan's officer imports its structure, fixes the two errors the import reports,
submits; the Secretariat accepts; next year the officer copies it, moves a directorate, replaces a deputy
minister, submits; the comparison shows exactly those two changes."""

import re

from tests.conftest import login
from tests.structure_helpers import KYRGYZ_ROWS, act, kyrgyz_csv, open_disclosure, save_and_submit, unit_op, upload


def _changes(html: str) -> list[str]:
    block = re.search(r'<ul class="structure-changes">(.*?)</ul>', html, re.S)
    assert block, "no list of changes"
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)]


def test_kyrgyzstan_files_two_years_and_the_comparison_shows_exactly_the_two_changes(app, make_user):
    officer, reviewer = make_user("officer", "KG"), make_user("secretariat")
    kg, secretariat = app.test_client(), app.test_client()
    assert login(kg, officer).status_code == 302
    assert login(secretariat, reviewer).status_code == 302

    # Year one: the template is there to start from; an empty disclosure opens.
    template = kg.get("/structures/template")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    assert b"type,key,parent,kind" in template.data
    first = open_disclosure(kg, 2027)
    assert "Import the structure from the template" in kg.get(f"/structures/{first}/edit").get_data(as_text=True)

    # The file has two errors: a unit under an unknown parent, a deputy appointed after the as-of date.
    bad = list(KYRGYZ_ROWS)
    bad[9] = bad[9].replace("ICD,MOD,", "ICD,MODX,")
    bad[5] = bad[5].replace("2025-05-01", "2027-03-01")
    response = upload(kg, first, kyrgyz_csv(bad))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    problems = re.findall(r"<li>(Row \d+, column [A-Z]+ \([a-z_]+\): [^<]*)</li>", html)
    assert problems == [
        "Row 7, column K (appointed_on): Appointed after the as-of date 2027-01-01.",
        "Row 11, column C (parent): Unknown parent unit MODX.",
    ]
    assert "Units (0)" in kg.get(f"/structures/{first}/edit").get_data(as_text=True)  # nothing stored

    response = upload(kg, first, kyrgyz_csv())
    assert response.status_code == 302
    edit = kg.get(f"/structures/{first}/edit").get_data(as_text=True)
    assert "Imported 4 units, 4 posts and 4 holders." in edit
    response = save_and_submit(kg, first)
    assert response.status_code == 302 and response.location.endswith(f"/structures/{first}")
    assert act(secretariat, first, "accept").status_code == 302
    assert "Accepted" in kg.get(f"/structures/{first}").get_data(as_text=True)

    # Year two: a copy of the accepted one; the directorate moves under the General Staff; a new deputy minister.
    second = open_disclosure(kg, 2028)
    edit = kg.get(f"/structures/{second}/edit").get_data(as_text=True)
    assert "Units (4)" in edit and "International Cooperation Directorate" in edit
    assert unit_op(kg, second, "ICD", "move", parent_key="GS").status_code == 302
    assert unit_op(kg, second, "MOD", "add_holder", target="DEP", name_ru="Сыдыков Нурлан",
                   name_latin="Sydykov Nurlan", rank="Major General", appointed_on="2027-06-15",
                   replaces_current="y").status_code == 302
    response = save_and_submit(kg, second)
    assert response.status_code == 302 and response.location.endswith(f"/structures/{second}")
    assert act(secretariat, second, "accept").status_code == 302

    page = kg.get("/structures/compare/KG").get_data(as_text=True)
    assert _changes(page) == [
        "Unit moved: International Cooperation Directorate, from under Ministry of Defence to under General Staff.",
        "Deputy Minister (Ministry of Defence): Major General Asanov Bakyt replaced by Major General Sydykov "
        "Nurlan.",
    ]
    # Highlighted on the chart: the moved unit and the unit whose post changed.
    assert re.search(r'<li id="unit-ICD" class="[^"]*unit-moved', page)
    assert re.search(r'<li id="unit-MOD" class="[^"]*holder-changed', page)
    # The Secretariat sees Kyrgyzstan's current structure among the member states.
    overview = secretariat.get("/structures/overview").get_data(as_text=True)
    assert second in overview and "Sydykov Nurlan" in overview and "Asanov Bakyt" not in overview
