"""Annual calendars of notifiable activities."""

from flask import Blueprint

bp = Blueprint("calendars", __name__, url_prefix="/calendars")
