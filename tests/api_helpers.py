"""Helpers for the API tests: tokens made through the service, requests with a bearer token, a valid body."""

from datetime import timedelta

from registry.db import db, utcnow
from registry.models import User
from registry.services import api_tokens


def make_token(app, user, scopes=None, days=30) -> str:
    """A token for the test user (a SimpleNamespace from make_user), through the service the page calls."""
    with app.app_context():
        row_user = db.session.get(User, user.id)
        scopes = scopes if scopes is not None else api_tokens.scopes_for_role(row_user.role)
        token, _row = api_tokens.create_token(row_user, name="test", scopes=scopes, days=days,
                                              password=user.password)
        db.session.commit()
        return token


def call(client, method: str, url: str, token: str | None = None, **kwargs):
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.open(url, method=method, headers=headers, **kwargs)


def day(n: int) -> str:
    return (utcnow().date() + timedelta(days=n)).isoformat()


def valid_body(**overrides) -> dict:
    """The API twin of tests/test_exercise_pages.valid_form: 14,000 troops in 60 days, observers invited."""
    body = {
        "visibility": "members", "original_language": "ru",
        "designation_ru": "Мирная миссия-2026", "designation_zh": "和平使命-2026",
        "designation_en": "Peace Mission 2026",
        "exercise_type": "joint_multinational", "purpose": "Counter-terrorism cooperation",
        "command_level": "Military district", "headquarters": "Regional command South",
        "start_date": day(60), "end_date": day(70),
        "area_description": "Matybulak training ground", "latitude": 43.25, "longitude": 76.95,
        "troops_total": 14000, "troops_ground": 12000, "troops_air": 2000,
        "battle_tanks": 120, "acv": 300, "artillery": 80, "combat_aircraft": 24, "helicopters": 18,
        "sorties": 90, "warships": 0, "amphibious_airborne": 500,
        "observers_invited": True, "observer_programme": "Days 3 and 4 at the active phase",
        "observer_places_per_state": 2, "observer_arrival_point": "Almaty airport",
        "not_forecast_reason": "Agreed after the calendar was sent",
        "participants": [{"state": "KG", "role": "participant", "contribution": "Motor rifle company",
                          "troops": 300}],
        "phases": [{"name": "active", "start_date": day(62), "end_date": day(68)}],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}
