"""Shared by the structure disclosure tests: a Kyrgyz ministry as a CSV file, and page helpers."""

import re

from tests.conftest import csrf_token

HEADER = "type,key,parent,kind,name_ru,name_zh,name_latin,name_native,hq_location,rank,appointed_on,left_on"
KYRGYZ_ROWS = [
    "ministry,,,,Министерство обороны Кыргызской Республики,吉尔吉斯共和国国防部,"
    "Ministry of Defence of the Kyrgyz Republic,Кыргыз Республикасынын Коргоо министрлиги,,,,",
    "unit,MOD,,ministry,Министерство обороны,国防部,Ministry of Defence,,Bishkek,,,",
    "position,MIN,MOD,minister,Министр обороны,国防部长,Minister of Defence,,,,,",
    "holder,,MIN,,Бекболотов Руслан,,Bekbolotov Ruslan,Бекболотов Руслан,,Lieutenant General,2024-01-10,",
    "position,DEP,MOD,deputy,Заместитель министра,副部长,Deputy Minister,,,,,",
    "holder,,DEP,,Асанов Бакыт,,Asanov Bakyt,Асанов Бакыт,,Major General,2025-05-01,",
    "unit,GS,MOD,general_staff,Генеральный штаб,总参谋部,General Staff,,Bishkek,,,",
    "position,CGS,GS,chief_of_general_staff,Начальник Генерального штаба,总参谋长,Chief of the General Staff,,,,,",
    "holder,,CGS,,Омуралиев Эрлан,,Omuraliev Erlan,,,Major General,2023-09-01,",
    "unit,ICD,MOD,directorate,Управление международного сотрудничества,国际合作局,"
    "International Cooperation Directorate,,Bishkek,,,",
    "position,ICC,ICD,cooperation_contact,Начальник управления,局长,Head of the directorate,,,,,",
    "holder,,ICC,,Токтогулов Марат,,Toktogulov Marat,,,Colonel,2022-02-01,",
    "unit,BT,MOD,border_troops,Пограничные войска,边防部队,Border Troops,,Bishkek,,,",
]


def kyrgyz_csv(rows=None) -> bytes:
    return ("\n".join([HEADER, *(rows or KYRGYZ_ROWS)]) + "\n").encode()


def lock_of(html: str) -> str:
    match = re.search(r'name="lock_version"[^>]*value="(\d+)"', html)
    assert match, "no lock_version on the page"
    return match.group(1)


def reference_from(location: str) -> str:
    match = re.search(r"/structures/(MOD-\d{4}-\d{4})", location)
    assert match, location
    return match.group(1)


def open_disclosure(client, year: int, **extra) -> str:
    token = csrf_token(client, "/structures/new")
    response = client.post("/structures/new", data={"csrf_token": token, "year": str(year), "visibility": "members",
                                                    "original_language": "ru", **extra})
    assert response.status_code == 302, response.get_data(as_text=True)
    return reference_from(response.location)


def upload(client, reference: str, content: bytes, filename: str = "structure.csv"):
    import io

    page = client.get(f"/structures/{reference}/import").get_data(as_text=True)
    return client.post(f"/structures/{reference}/import", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, f"/structures/{reference}/import"), "lock_version": lock_of(page),
        "file": (io.BytesIO(content), filename)})


def unit_op(client, reference: str, key: str, op: str, **fields):
    url = f"/structures/{reference}/units/{key}"
    page = client.get(url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(client, url), "lock_version": lock_of(page), "op": op,
                                  **fields})


def save_and_submit(client, reference: str):
    url = f"/structures/{reference}/edit"
    page = client.get(url).get_data(as_text=True)
    names = dict(re.findall(r'name="(ministry_name_\w+)"[^>]*value="([^"]*)"', page))
    return client.post(url, data={"csrf_token": csrf_token(client, url), "lock_version": lock_of(page),
                                  "visibility": "members", "action": "submit", **names})


def act(client, reference: str, action: str, **data):
    page = client.get(f"/structures/{reference}").get_data(as_text=True)
    match = re.search(r'name="lock_version" value="(\d+)"', page)
    return client.post(f"/records/{reference}/act/{action}", data={
        "csrf_token": csrf_token(client, f"/structures/{reference}"), "lock_version": match.group(1), **data})
