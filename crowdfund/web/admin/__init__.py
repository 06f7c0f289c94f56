from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("admin", __name__)


@bp.before_request
def admins_only():
    if not current_user.is_authenticated:
        from ...extensions import login_manager

        return login_manager.unauthorized()
    if not current_user.is_admin:
        abort(403)


@bp.context_processor
def qualification_tab():
    """The "Qualified investors" tab only where the investor rules ask for proof (cn)."""
    from ...services import qualifications

    return {"qualifications_in_force": bool(qualifications.thresholds())}


from . import (
    changes,
    comments,
    deliveries,
    disputes,
    firm_changes,
    fx_rates,
    investors,
    material_changes,
    settlements,
    users,
    views,
)
