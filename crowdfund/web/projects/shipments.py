"""Release on delivery on the founder's pages: the shipping page (record a shipment for chosen
pledges, or upload a CSV of many), and the template globals that say how a campaign pays."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ...domain.release_models import ON_DELIVERY, delivery_status_label, release_model_label
from ...services import delivery_records, shipments
from ..forms import Form, submit_form
from . import bp
from .access import own_project_or_404
from .funding import stake_percent

bp.add_app_template_global(release_model_label, "release_model_label")
bp.add_app_template_global(delivery_status_label, "delivery_status_label")


@bp.app_template_global("release_model_explained")
def release_model_explained(project):
    """What a backer reads of when the firm is paid, or '' for the default."""
    if getattr(project, "release_model", None) != ON_DELIVERY:
        return ""
    return _(
        "Released on delivery: %(share)s of the money (after the platform fee) goes to the firm when the "
        "campaign succeeds; the rest is held for each backer until they confirm their reward arrived.",
        share=stake_percent(current_app.config["RELEASE_AT_SUCCESS_BPS"]),
    )


class ShipmentForm(Form):
    carrier = StringField(_l("Carrier"), validators=[DataRequired(), Length(max=shipments.CARRIER_MAX)])
    tracking = StringField(_l("Tracking number"), validators=[DataRequired(), Length(max=shipments.TRACKING_MAX)])
    submit = SubmitField(_l("Record the shipment"))


class ShipmentCsvForm(Form):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("Upload a .csv file."))],
        description=_l("One line per pledge: pledge_id,carrier,tracking (with that header line first)."),
    )
    upload = SubmitField(_l("Upload shipments"))


def _render(project, form=None, csv_form=None, status=200):
    return render_template(
        "projects/shipments.html",
        project=project,
        lines=delivery_records.shipping_list(project),
        progress=delivery_records.tier_progress(project),
        form=form or ShipmentForm(formdata=None),
        csv_form=csv_form or ShipmentCsvForm(formdata=None),
    ), status


def _shippable(project_id):
    project = own_project_or_404(project_id)
    if project.release_model != ON_DELIVERY or project.kind != "reward":
        abort(404)
    return project


@bp.get("/projects/<int:project_id>/shipments")
@login_required
def shipments_page(project_id):
    return _render(_shippable(project_id))


@bp.post("/projects/<int:project_id>/shipments")
@login_required
def record_shipment(project_id):
    project = _shippable(project_id)
    form = ShipmentForm()
    ids = [int(v) for v in request.form.getlist("pledge_ids") if v.isascii() and v.isdigit() and len(v) < 19]
    outcome = submit_form(
        form, lambda: shipments.record_shipment(current_user, project, ids, form.carrier.data, form.tracking.data)
    )
    if outcome.done:
        flash(_("The shipment is recorded; its backers are told."), "success")
        return redirect(url_for("projects.shipments_page", project_id=project.id))
    return _render(project, form=form, status=outcome.status)


@bp.post("/projects/<int:project_id>/shipments.csv")
@login_required
def upload_shipments(project_id):
    project = _shippable(project_id)
    csv_form = ShipmentCsvForm()
    outcome = submit_form(csv_form, lambda: shipments.record_csv(current_user, project, csv_form.file.data.read()))
    if outcome.done:
        flash(
            _("%(num)d shipment(s) recorded; their backers are told.", num=len(outcome.result)),
            "success",
        )
        return redirect(url_for("projects.shipments_page", project_id=project.id))
    return _render(project, csv_form=csv_form, status=outcome.status)


bp.add_app_template_global(delivery_records.tier_progress, "delivery_progress")
