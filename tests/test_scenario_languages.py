"""Issue 9, "done when": a Chinese-speaking Secretariat reviewer and a Russian-speaking Kazakh officer do the whole
exercise-notification scenario, each in their own language, e-mails included; and Chinese and Cyrillic text
round-trips through the form, the database and the exports, on both backends."""

import csv
import html
import io
import json

from babel.messages.pofile import read_po
from sqlalchemy import select

from registry.db import db
from registry.models import OutboxMessage, Submission
from tests.conftest import csrf_token, login
from tests.test_exercise_pages import valid_form
from tests.test_i18n import CATALOGS

DESIGNATION_RU = "Мирная миссия — «Восток-2026» (ёлка, Ё)"
DESIGNATION_ZH = "和平使命—2026（东方）𠀀"  # a 4-byte character too


def _translation(lang: str, msgid: str) -> str:
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=lang)[msgid].string


def _post(client, url, data, token_page):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, token_page)})


def _choose(client, lang):
    return _post(client, "/language", {"lang": lang, "next": "/states/"}, "/states/")


def _record(app) -> Submission:
    with app.app_context():
        record = db.session.scalar(select(Submission))
        db.session.expunge(record)
        return record


def _mail(app, user_id, kind) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id == user_id,
                                                                   OutboxMessage.kind == kind)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_a_russian_speaking_officer_and_a_chinese_speaking_reviewer(app, make_user):
    kz, reviewer = make_user("officer", "KZ"), make_user("secretariat")
    officer, secretariat = app.test_client(), app.test_client()
    assert login(officer, kz).status_code == 302 and login(secretariat, reviewer).status_code == 302
    _choose(officer, "ru")
    _choose(secretariat, "zh")

    # The officer files in Russian, on Russian pages.
    page = html.unescape(officer.get("/exercises/new").get_data(as_text=True))
    assert '<html lang="ru">' in page and _translation("ru", "Save draft") in page
    form = valid_form(app, designation_ru=DESIGNATION_RU, designation_zh=DESIGNATION_ZH)
    response = _post(officer, "/exercises/new", {**form, "action": "submit"}, "/exercises/new")
    assert response.status_code == 302
    record = _record(app)
    assert record.status.value == "submitted"

    # The reviewer is told in Chinese, reads the queue in Chinese and returns it with a comment.
    [told] = _mail(app, reviewer.id, "submission.submit")
    assert _translation("zh", "%(ref)s awaits review").replace("%(ref)s", record.reference) == told.subject
    queue = html.unescape(secretariat.get("/review/").get_data(as_text=True))
    assert record.reference in queue and _translation("zh", "Review queue") in queue
    detail = f"/exercises/{record.reference}"
    response = _post(secretariat, f"/records/{record.reference}/act/return",
                     {"lock_version": str(record.lock_version), "comment": "请按军种列出吉尔吉斯斯坦的兵力。",
                      "comment_visibility": "shared"}, detail)
    assert response.status_code == 302

    # The officer is told in Russian; the decision reads in Russian on the record page.
    [returned] = _mail(app, kz.id, "submission.return")
    status = _translation("ru", "Returned for correction")
    assert status in returned.subject and status in returned.body
    page = html.unescape(officer.get(detail).get_data(as_text=True))
    assert "请按军种列出吉尔吉斯斯坦的兵力。" in page and status in page

    # Corrected and resubmitted in Russian; accepted in Chinese; the officer is told in Russian.
    record = _record(app)
    edit = f"/exercises/{record.reference}/edit"
    response = _post(officer, edit, {**form, "lock_version": str(record.lock_version), "action": "submit"}, edit)
    assert response.status_code == 302
    response = _post(secretariat, f"/records/{record.reference}/act/accept",
                     {"lock_version": str(_record(app).lock_version)}, detail)
    assert response.status_code == 302 and _record(app).status.value == "accepted"
    [accepted] = _mail(app, kz.id, "submission.accept")
    assert _translation("ru", "Accepted") in accepted.subject
    assert _translation("zh", "Accepted") in html.unescape(secretariat.get(detail).get_data(as_text=True))


def test_chinese_and_cyrillic_round_trip_through_form_database_and_exports(app, make_user):
    from openpyxl import load_workbook

    kz, auditor = make_user("officer", "KZ"), make_user("auditor")
    officer, reader = app.test_client(), app.test_client()
    login(officer, kz)
    login(reader, auditor)
    form = valid_form(app, designation_ru=DESIGNATION_RU, designation_zh=DESIGNATION_ZH)
    assert _post(officer, "/exercises/new", {**form, "action": "save"}, "/exercises/new").status_code == 302
    with app.app_context():
        from registry.models import ExerciseDetails

        stored = db.session.scalar(select(ExerciseDetails))
        assert (stored.designation_ru, stored.designation_zh) == (DESIGNATION_RU, DESIGNATION_ZH)
    rows = list(csv.DictReader(io.StringIO(reader.get("/exports/exercises.csv").get_data().decode("utf-8"))))
    assert (rows[0]["designation_ru"], rows[0]["designation_zh"]) == (DESIGNATION_RU, DESIGNATION_ZH)
    document = json.loads(reader.get("/exports/exercises.json").get_data())
    assert document["rows"][0]["designation_zh"] == DESIGNATION_ZH
    sheet = load_workbook(io.BytesIO(reader.get("/exports/exercises.xlsx").get_data()), read_only=True).active
    header, first = list(sheet.iter_rows(values_only=True))[:2]
    assert first[header.index("designation_ru")] == DESIGNATION_RU
    assert first[header.index("designation_zh")] == DESIGNATION_ZH
