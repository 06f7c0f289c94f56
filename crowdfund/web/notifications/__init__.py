"""The mail a person gets: /account/notifications, and the links in every message that
change it (services/mail_choices.py)."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from . import views  # noqa: E402,F401
