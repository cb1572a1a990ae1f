"""Exercise notifications: forms and record pages (routes.py), the list, year view and feed (listing.py)."""

from flask import Blueprint

bp = Blueprint("exercises", __name__, url_prefix="/exercises")
