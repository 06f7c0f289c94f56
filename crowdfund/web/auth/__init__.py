from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401
from . import account  # noqa: E402,F401
from . import devices, recovery  # noqa: E402,F401  (reset, verification, sessions: issue 20)
from . import two_factor  # noqa: E402,F401  (enrolment, the code at sign-in: issue 20)
