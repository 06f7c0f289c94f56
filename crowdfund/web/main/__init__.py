from flask import Blueprint

bp = Blueprint("main", __name__)

from . import views  # noqa: E402,F401
from . import legal  # noqa: E402,F401
