"""Threshold profiles: their numbers with sources, and which are in force."""

from flask import Blueprint

bp = Blueprint("profiles", __name__, url_prefix="/profiles")
