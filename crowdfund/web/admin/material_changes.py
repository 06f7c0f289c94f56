"""An admin marks a material change to a live offering (the founder's page, from the admin side)."""

from flask import url_for

from ..projects.material_changes import material_change_page
from . import bp
from .views import _project_or_404


@bp.route("/campaigns/<int:project_id>/material-change", methods=["GET", "POST"])
def material_change(project_id):
    project = _project_or_404(project_id)
    campaigns = url_for("admin.live_campaigns")
    return material_change_page(project, back_url=campaigns, done_url=campaigns)
