"""Demonstration records: a few exercise notifications and a calendar in every workflow status.

Loaded with the demo accounts, through the same service functions as the pages, so the audit log and
timelines are real. Every record says "[demo]" in its purpose; dates are relative to today so the demo
never goes stale. Names and places follow the SCO's real "Peace Mission" exercises.
"""

from datetime import date, timedelta

from sqlalchemy import func, select

from registry.db import db, utcnow
from registry.enums import RecordType
from registry.models import MemberState, Submission, User
from registry.services import calendars, exercises, structure_import, structures
from registry.services import submissions as workflow
from registry.services.exercises import ExerciseInput, ParticipantInput, PhaseInput

DEMO_NOTE = "[demo] Demonstration record, not a real notification."


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _states() -> dict[str, MemberState]:
    return {s.code: s for s in db.session.scalars(select(MemberState))}


def _phases(start: date, days: int) -> list[PhaseInput]:
    third = max(days // 3, 1)
    return [
        PhaseInput("deployment", start, start + timedelta(days=third - 1)),
        PhaseInput("active", start + timedelta(days=third), start + timedelta(days=days - 2)),
        PhaseInput("recovery", start + timedelta(days=days - 1), start + timedelta(days=days - 1)),
    ]


def _peace_mission(states, start: date, days: int, year_label: str) -> ExerciseInput:
    partners = [
        ("CN", "co_organiser", "Motorised infantry and air force units", 1600),
        ("KZ", "participant", "Airborne assault company", 200),
        ("KG", "participant", "Motor rifle company", 150),
        ("TJ", "participant", "Motor rifle company", 150),
        ("IN", "participant", "Infantry battalion group", 200),
        ("PK", "participant", "Infantry company", 150),
    ]
    return ExerciseInput(
        values={
            "designation_ru": f"Мирная миссия-{year_label}", "designation_zh": f"和平使命-{year_label}",
            "designation_en": f"Peace Mission-{year_label}", "exercise_type": "counter_terrorism",
            "purpose": f"Joint counter-terrorism command post and field exercise of SCO member states. {DEMO_NOTE}",
            "command_level": "Joint operational headquarters", "headquarters": "Orenburg",
            "start_date": start, "end_date": start + timedelta(days=days - 1),
            "area_description": "Donguz training ground, Orenburg region", "latitude": "51.45", "longitude": "54.95",
            "troops_total": "4000", "troops_ground": "3200", "troops_air": "800", "battle_tanks": "60", "acv": "180",
            "artillery": "40", "combat_aircraft": "24", "helicopters": "30", "sorties": "90",
            "observers_invited": True, "observer_places_per_state": "2", "observer_arrival_point": "Orenburg airport",
            "observer_programme": "Briefing, visit to the active phase, final review.",
            "not_forecast_reason": "Agreed by the defence ministers after the calendar exchange.",
        },
        participants=[ParticipantInput(states[c].id, role, text, troops) for c, role, text, troops in partners],
        phases=_phases(start, days),
    )


def load_demo_records() -> int:
    """Create the demo records once (nothing happens when any exercise notification exists)."""
    if db.session.scalar(select(func.count()).select_from(Submission)
                         .where(Submission.record_type == RecordType.EXERCISE)):
        return 0
    states = _states()
    today = utcnow().date()
    reviewer, second = _user("secretariat@demo.example.org"), _user("secretariat2@demo.example.org")
    officer_ru, officer_kz = _user("officer.ru@demo.example.org"), _user("officer.kz@demo.example.org")
    officer_cn, officer_kg = _user("officer.cn@demo.example.org"), _user("officer.kg@demo.example.org")
    created = 0

    # Accepted and public: the next Peace Mission, notified well ahead.
    start = today + timedelta(days=75)
    record = exercises.create_exercise(officer_ru, states["RU"], _peace_mission(states, start, 13, str(start.year)),
                                       visibility="public", language="ru")
    workflow.submit(officer_ru, record)
    workflow.add_comment(reviewer, record, comment="Participants' contributions checked against the notes verbales.",
                         comment_visibility="internal")
    workflow.accept(reviewer, record)
    created += 1

    # Entered by the Secretariat for the archive: Peace Mission-2021 (Donguz, 13-25 September 2021).
    archive = _peace_mission(states, date(2021, 9, 13), 13, "2021")
    archive.values["late_explanation"] = "Historical record entered for the archive after the exercise."
    record = exercises.create_exercise(reviewer, states["RU"], archive, visibility="public", language="ru",
                                       source_document="[demo] Note verbale of the Ministry of Defence, 2021")
    workflow.submit(reviewer, record)
    workflow.accept(second, record)
    created += 1

    # Awaiting review: a large Kazakh exercise in the border zone, observers invited.
    start = today + timedelta(days=60)
    values = {
        "designation_ru": "Тянь-Шань (демо)", "designation_zh": "天山（演示）", "designation_en": "Tien Shan (demo)",
        "exercise_type": "field_training", "purpose": f"Defence of the eastern border district. {DEMO_NOTE}",
        "command_level": "Regional command East", "headquarters": "Taldykorgan",
        "start_date": start, "end_date": start + timedelta(days=9),
        "area_description": "Training grounds of the Almaty region", "latitude": "44.9", "longitude": "79.5",
        "within_border_zone": True, "border_segment": "Kazakhstan-China, Dzungarian Gate",
        "troops_total": "14000", "troops_ground": "11500", "troops_air": "2500", "battle_tanks": "120",
        "acv": "400", "artillery": "150", "combat_aircraft": "30", "helicopters": "24", "sorties": "150",
        "observers_invited": True, "observer_places_per_state": "2", "observer_arrival_point": "Almaty airport",
        "not_forecast_reason": "Scheduled after the calendar exchange.",
    }
    record = exercises.create_exercise(officer_kz, states["KZ"], ExerciseInput(values=values,
                                       phases=_phases(start, 10)), visibility="members", language="ru")
    workflow.submit(officer_kz, record)
    created += 1

    # A draft that still needs work.
    start = today + timedelta(days=120)
    values = {"designation_zh": "联合-演示", "designation_en": "Joint (demo)", "exercise_type": "command_post",
              "purpose": DEMO_NOTE, "start_date": start, "end_date": start + timedelta(days=4), "troops_total": "2500"}
    exercises.create_exercise(officer_cn, states["CN"], ExerciseInput(values=values), visibility="members",
                              language="zh")
    created += 1

    # Kyrgyzstan's accepted calendar for next year.
    year = today.year + 1
    entries = [calendars.EntryInput("Kyrgyz border command post exercise (demo)", "command_post",
                                    date(year, 4, 14), date(year, 4, 18), "Osh region", 3000),
               calendars.EntryInput("Mountain troops field exercise (demo)", "field_training",
                                    date(year, 8, 4), date(year, 8, 12), "Issyk-Kul region", 5000)]
    record = calendars.create_calendar(officer_kg, states["KG"], year, entries, remarks=DEMO_NOTE, visibility="public")
    workflow.submit(officer_kg, record)
    workflow.accept(reviewer, record)
    created += 1

    # Kyrgyzstan's accepted defence-ministry structure as of 1 January this year.
    record = structures.create_structure(officer_kg, states["KG"], today.year, visibility="public")
    structures.replace_tree(officer_kg, record, structure_import.parse(
        _demo_structure_csv(today.year - 2), "demo-structure.csv", structures.as_of_for(today.year)),
        filename="demo-structure.csv")
    workflow.submit(officer_kg, record)
    workflow.accept(reviewer, record)
    created += 1
    return created


def _demo_structure_csv(year: int) -> bytes:
    """A small chart with invented holders (the demo names no real person)."""
    rows = [
        ",".join(structure_import.COLUMNS),
        "ministry,,,,Министерство обороны Кыргызской Республики,吉尔吉斯共和国国防部,"
        "Ministry of Defence of the Kyrgyz Republic,Кыргыз Республикасынын Коргоо министрлиги,,,,",
        "unit,MOD,,ministry,Министерство обороны,国防部,Ministry of Defence,,Bishkek,,,",
        "position,MIN,MOD,minister,Министр обороны,国防部长,Minister of Defence,,,,,",
        f"holder,,MIN,,Демо Министр,演示部长,Demo Minister,,,Lieutenant General,{year}-02-01,",
        "position,DEP,MOD,deputy,Заместитель министра,副部长,Deputy Minister,,,,,",
        f"holder,,DEP,,Демо Заместитель,,Demo Deputy,,,Major General,{year}-06-01,",
        "unit,GS,MOD,general_staff,Генеральный штаб,总参谋部,General Staff,,Bishkek,,,",
        "position,CGS,GS,chief_of_general_staff,Начальник Генерального штаба,总参谋长,Chief of the General Staff,,,,,",
        f"holder,,CGS,,Демо Начальник,,Demo Chief,,,Major General,{year}-03-15,",
        "unit,SW,GS,military_district,Юго-Западное региональное командование,西南地区司令部,"
        "South-Western Regional Command,,Osh,,,",
        "unit,ICD,MOD,directorate,Управление международного военного сотрудничества,国际军事合作局,"
        "International Military Cooperation Directorate,,Bishkek,,,",
        "position,ICC,ICD,cooperation_contact,Начальник управления,局长,Head of the directorate,,,,,",
        f"holder,,ICC,,Демо Контакт,,Demo Contact,,,Colonel,{year}-09-01,",
    ]
    return ("\n".join(rows) + "\n").encode()
