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


from . import comments, disputes, firm_changes, fx_rates, settlements, users, views
