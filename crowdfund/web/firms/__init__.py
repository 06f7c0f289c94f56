from flask import Blueprint

bp = Blueprint("firms", __name__)

from . import views  # noqa: E402,F401
