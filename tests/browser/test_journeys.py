"""Every journey in a real browser (headless Chromium), several users each in their own browser at once.

Records a journey needs but does not exercise are made with the service functions; everything the journey is
about is done by clicking and typing in the pages, as a new user would.
"""

import csv
import io
import re
import time
from datetime import timedelta

from selenium.webdriver.common.keys import Keys

from registry.db import db, utcnow
from registry.models import Submission
from tests.factories import user
from tests.structure_helpers import HEADER, KYRGYZ_ROWS
from tests.test_exercise_listing import make_exercise
from tests.visit_factories import published_offer


def test_an_exercise_notification_from_filing_to_acceptance(app, make_user, browsers):
    officer, reviewer = make_user("officer", "KZ"), make_user("secretariat")
    kz, sec = browsers("officer"), browsers("secretariat")
    start = utcnow().date() + timedelta(days=120)

    # The officer lands on the dashboard: nothing to do yet.
    kz.sign_in(app, officer)
    assert "What Kazakhstan must do next" in kz.text and "No draft and nothing returned for correction." in kz.text
    kz.shot("dashboard-before")
    # Keyboard: the first Tab reaches the skip link, which shows itself and leads to the main content.
    kz.find("body").send_keys(Keys.TAB)
    skip = kz.driver.switch_to.active_element
    assert skip.get_attribute("class") == "skip" and skip.is_displayed() and skip.location["x"] >= 0
    kz.shot("skip-link-focused")
    skip.send_keys(Keys.ENTER)
    assert kz.driver.switch_to.active_element.get_attribute("id") == "main"

    # Files a notification: fill the form, save and submit.
    kz.click_and_wait(kz.link("New notification"))
    kz.fill("designation_en", "Steppe Shield 2027")
    kz.fill("designation_ru", "Степной щит 2027")
    kz.fill("exercise_type", "command_post")
    kz.fill("start_date", start.isoformat())
    kz.fill("end_date", (start + timedelta(days=6)).isoformat())
    kz.fill("troops_total", "3500")
    kz.fill("area_description", "Matybulak training ground, Zhambyl region")
    kz.shot("form-filled")
    kz.click_and_wait(kz.button("Save and submit"))
    reference = re.search(r"EXN-\d{4}-\d{4}", kz.text).group(0)
    assert "Submitted, awaiting review" in kz.text
    kz.shot("submitted")

    # The Secretariat, in its own browser, signs in with its second factor and finds it in the queue.
    sec.sign_in(app, reviewer)
    assert "1 record awaits a decision." in sec.text and reference in sec.text
    sec.shot("dashboard")
    sec.click_and_wait(sec.link("Open the review queue"))
    sec.click_and_wait(sec.link(reference))
    assert "Steppe Shield 2027" in sec.text
    sec.shot("record")
    sec.click_and_wait(sec.button("Accept"))
    assert "Accepted" in sec.text
    sec.shot("accepted")

    # The officer reloads: accepted, and the exercise is on the timeline of the dashboard with its table row.
    kz.get(f"/records/{reference}")
    assert "Accepted" in kz.text
    kz.get("/")
    timeline = kz.find("figure.chart svg")
    assert "Steppe Shield" in timeline.get_attribute("innerHTML")
    assert reference in kz.find("table.chart-table").text
    kz.shot("dashboard-after")


def test_a_visit_offer_answered_by_two_states(app, make_user, browsers):
    host, cn_officer, kg_officer = make_user("officer", "KZ"), make_user("officer", "CN"), make_user("officer", "KG")
    reviewer = make_user("secretariat")
    with app.app_context():
        offer = published_offer(host.id, reviewer.id, days_ahead=40, answer_by=utcnow().date() + timedelta(days=25),
                                invitations=[("CN", 2), ("KG", 1)])
        reference = offer.reference
    cn, kg = browsers("cn"), browsers("kg", width=820, height=1100)  # a tablet's width

    for browser, person in ((cn, cn_officer), (kg, kg_officer)):
        browser.sign_in(app, person)
        assert "Taldykorgan air base" in browser.find('section[aria-labelledby="answers-h"]').text
        assert "25 days left" in browser.text
        browser.shot("dashboard")

    # China accepts with two participants.
    cn.click_and_wait(cn.link("Taldykorgan air base"))
    cn.find('input[name="decision"][value="accepted"]').click()
    for row in range(2):
        if not cn.find_all(f'[name="participants-{row}-name"]'):
            cn.click_and_wait(cn.button("Add a participant"))
            cn.find('input[name="decision"][value="accepted"]').click()
        cn.fill(f"participants-{row}-name", f"Wang Lei {row}")
        cn.fill(f"participants-{row}-rank", "Colonel")
        cn.fill(f"participants-{row}-post", "Air force staff")
    cn.shot("answer-filled")
    cn.click_and_wait(cn.find_all('button[name="action"][value="save"]')[-1])
    assert reference in cn.path and "Wang Lei 0" in cn.text
    cn.shot("answered")

    # Kyrgyzstan declines (no reason needed).
    kg.click_and_wait(kg.link("Taldykorgan air base"))
    kg.find('input[name="decision"][value="declined"]').click()
    kg.shot("answer-filled")
    kg.click_and_wait(kg.find_all('button[name="action"][value="save"]')[-1])
    kg.shot("answered")

    # Both answers are on the host's record; the invitations left both dashboards.
    kz = browsers("host")
    kz.sign_in(app, host)
    kz.get(f"/visits/{reference}")
    answers = kz.text
    assert "China" in answers and "Kyrgyzstan" in answers and "Wang Lei 1" in answers
    assert re.search(r"[Dd]eclined", answers)
    kz.shot("host-sees-answers")
    for browser in (cn, kg):
        browser.get("/")
        assert "No invitation waits for your state" in browser.text


def _csv(rows) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def test_a_structure_import_and_the_comparison_of_two_years(app, make_user, browsers, tmp_path):
    officer, reviewer = make_user("officer", "KG"), make_user("secretariat")
    kg, sec = browsers("officer"), browsers("secretariat")
    first_file = tmp_path / "kyrgyzstan-2027.csv"
    first_file.write_bytes(_csv(KYRGYZ_ROWS))
    # Next year: the international cooperation directorate moves under the General Staff.
    moved = [row.replace("unit,ICD,MOD,", "unit,ICD,GS,") for row in KYRGYZ_ROWS]
    second_file = tmp_path / "kyrgyzstan-2028.csv"
    second_file.write_bytes(_csv(moved))
    kg.sign_in(app, officer)
    sec.sign_in(app, reviewer)

    references = []
    for year, path in ((2027, first_file), (2028, second_file)):
        kg.get("/structures/new")
        kg.fill("year", str(year))
        kg.click_and_wait(kg.button("Open the disclosure"))
        reference = re.search(r"MOD-\d{4}-\d{4}", kg.path).group(0)
        kg.get(f"/structures/{reference}/import")
        kg.find('input[type="file"]').send_keys(str(path))
        kg.shot(f"import-{year}")
        kg.click_and_wait(kg.button("Import"))
        assert "Imported 4 units, 4 posts and 4 holders." in kg.text
        kg.shot(f"imported-{year}")
        kg.click_and_wait(kg.button("Save and submit"))
        assert "Submitted, awaiting review" in kg.text
        sec.get(f"/structures/{reference}")
        sec.click_and_wait(sec.button("Accept"))
        assert "Accepted" in sec.text
        references.append(reference)

    kg.get("/structures/compare/KG")
    changes = kg.find("ul.structure-changes").text
    assert "Unit moved: International Cooperation Directorate, from under Ministry of Defence to under General " \
           "Staff." in changes
    assert kg.find("#unit-ICD").get_attribute("class").find("unit-moved") >= 0
    kg.shot("comparison")


def test_an_auditor_downloads_an_export_and_it_holds_the_records(app, make_user, browsers):
    officer, reviewer, auditor = make_user("officer", "KZ"), make_user("secretariat"), make_user("auditor")
    with app.app_context():
        _id, reference = make_exercise(officer.id, reviewer.id, "accepted", designation_en="Exported Exercise")
    browser = browsers("auditor")
    browser.sign_in(app, auditor)
    assert "Auditor overview" in browser.text and "intact" in browser.text
    browser.shot("dashboard")

    browser.click_and_wait(browser.link("Exports"))
    browser.shot("exports")
    row = browser.driver.find_element("xpath", "//tr[th[normalize-space()='Exercise notifications']]")
    row.find_element("link text", "CSV").click()
    target = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done = [p for p in browser.downloads.glob("*.csv")]
        if done and not list(browser.downloads.glob("*.crdownload")):
            target = done[0]
            break
        time.sleep(0.2)
    assert target is not None, f"no CSV downloaded into {browser.downloads}"
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert [r for r in rows if reference in r.values() and "Exported Exercise" in r.values()], rows[:2]

    # The download is in the audit log, and on the auditor's dashboard.
    browser.get("/")
    assert "export" in browser.find('section[aria-labelledby="exports-h"]').text
    browser.shot("dashboard-after-export")
    with app.app_context():
        assert db.session.get(Submission, _id).reference == reference and user(auditor.id).email == auditor.email
