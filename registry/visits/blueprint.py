"""The visits blueprint; its views live in routes.py (offers, answers, the visit's life), requests.py and
papers.py (post-visit report and remarks), each registering on this one URL map."""

from flask import Blueprint

bp = Blueprint("visits", __name__, url_prefix="/visits")
