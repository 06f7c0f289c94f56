"""The founder's campaign dashboard, the backers CSV and posting updates to backers."""

import csv
import io

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...domain.charts import funding_chart
from ...domain.clock import utcnow
from ...domain.money import exponent, to_major
from ...domain.spreadsheets import csv_cell
from ...services import dashboard as dashboards, updates
from ..forms import submit_form
from . import bp
from .access import own_project_or_404
from .forms import UpdateForm


def _charts(project, points):
    """The funding-over-time chart, wide (desktop) and narrow (phones), or None before launch."""
    if project.launched_at is None:
        return None
    end = project.closed_at or project.deadline or utcnow()
    return [
        funding_chart(
            points,
            start=project.launched_at,
            end=end,
            goal=project.goal,
            now=project.closed_at or utcnow(),
            unit=10 ** exponent(project.currency),
            **size,
        )
        for size in ({"width": 640, "height": 260}, {"width": 340, "height": 220})
    ]


@bp.get("/projects/<int:project_id>/dashboard")
@login_required
def dashboard(project_id):
    project = own_project_or_404(project_id)
    overview = dashboards.overview(project)
    return render_template(
        "projects/dashboard.html",
        project=project,
        charts=_charts(project, overview.funding_points),
        statement=overview.statement,
        sales=overview.tier_sales,
        counts=overview.pledge_counts,
        can_post_update=overview.can_post_update,
    )


@bp.get("/projects/<int:project_id>/backers.csv")
@login_required
def backers_csv(project_id):
    project = own_project_or_404(project_id)
    rows = dashboards.backers(current_user, project)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Pledge"),
            _("Name"),
            _("Email"),
            _("Status"),
            _("Reward"),
            _("Quantity"),
            _("Shares"),
            _("Amount"),
            _("Currency"),
            _("In escrow since (UTC)"),
            _("Recipient"),
            _("Street address"),
            _("Address line 2"),
            _("City"),
            _("Postal code"),
            _("Country"),
        ]
    )
    for pledge in rows:
        address = pledge.shipping_address or {}
        writer.writerow(
            [
                csv_cell(v)
                for v in (
                    pledge.id,
                    pledge.backer.name,
                    pledge.backer.email,
                    pledge.status,
                    pledge.tier.title if pledge.tier else "",
                    pledge.quantity if pledge.tier_id else "",
                    pledge.shares or "",
                    f"{to_major(pledge.amount, pledge.currency):f}",
                    pledge.currency,
                    pledge.held_at.strftime("%Y-%m-%d %H:%M:%S") if pledge.held_at else "",
                    *(address.get(key, "") for key in ("name", "line1", "line2", "city", "postal_code", "country")),
                )
            ]
        )
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")  # BOM: spreadsheets read UTF-8
    response.headers["Content-Disposition"] = f'attachment; filename="backers-{project.id}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/projects/<int:project_id>/updates/new", methods=["GET", "POST"])
@login_required
def new_update(project_id):
    project = own_project_or_404(project_id)
    form = UpdateForm()
    outcome = submit_form(
        form,
        lambda: updates.post_update(current_user, project, form.title.data, form.body.data, form.audience.data),
    )
    if outcome.done:
        flash(_("Your update is posted. Your backers will get it by email."), "success")
        return redirect(url_for("projects.dashboard", project_id=project.id, _anchor="updates"))
    return render_template(
        "projects/update_form.html", project=project, form=form, can_post=updates.can_post(project)
    ), outcome.status
