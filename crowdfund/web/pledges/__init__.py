from flask import Blueprint

bp = Blueprint("pledges", __name__)

from . import (
    change,
    change_payment,
    delivery,  # noqa: E402,F401  (release on delivery: confirm receipt, report a problem)
    investor_checks,
    my_pledges,
    reconfirm,
    views,
)
