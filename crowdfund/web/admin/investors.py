"""Admin: investors' proofs of being qualified (cn, services/qualifications.py) and the monthly
custody report (services/custody.py)."""

from flask import Response, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...domain.clock import utcnow
from ...errors import DomainError
from ...services import custody, qualifications
from ..forms import Form, submit_form
from ..projects.forms import choices
from . import bp

DECISIONS = {"approve": _l("Approve: a qualified investor"), "refuse": _l("Refuse: the evidence does not show it")}


class QualificationDecisionForm(Form):
    decision = RadioField(_l("Decision"), choices=choices(DECISIONS.items()), validators=[DataRequired()])
    reason = TextAreaField(
        _l("Note for the investor"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Required when you refuse; the investor sees it."),
    )
    submit = SubmitField(_l("Record the decision"))


@bp.get("/qualifications")
def qualifications_queue():
    pending, decided = qualifications.admin_queue()
    return render_template(
        "admin/qualifications.html",
        pending=pending,
        decided=decided,
        bases=qualifications.BASES,
        status_words=qualifications.STATUS_WORDS,
    )


@bp.route("/qualifications/<int:qualification_id>", methods=["GET", "POST"])
def qualification(qualification_id):
    try:
        item = qualifications.get(qualification_id)
    except DomainError:
        abort(404)
    form = QualificationDecisionForm()

    def decide():
        if form.decision.data == "approve":
            return qualifications.approve(current_user, qualification_id, reason=form.reason.data)
        return qualifications.refuse(current_user, qualification_id, reason=form.reason.data)

    outcome = submit_form(form, decide)
    if outcome.done:
        flash(_("The decision is recorded."), "success")
        return redirect(url_for("admin.qualifications_queue"))
    return render_template(
        "admin/qualification.html",
        item=item,
        form=form,
        bases=qualifications.BASES,
        status_words=qualifications.STATUS_WORDS,
        thresholds=qualifications.thresholds(),
    ), outcome.status


@bp.get("/qualifications/<int:qualification_id>/evidence")
def qualification_evidence(qualification_id):
    """The evidence, to admins only (the folder is never served publicly)."""
    try:
        item = qualifications.get(qualification_id)
    except DomainError:
        abort(404)
    response = send_from_directory(
        qualifications.evidence_dir(),
        item.evidence_stored_name,
        mimetype=item.evidence_content_type,
        as_attachment=True,
        download_name=item.evidence_filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/custody-report")
def custody_report():
    """The month's report as a page; `?format=csv` downloads it."""
    month = request.args.get("month") or utcnow().strftime("%Y-%m")
    try:
        lines = custody.report(month)
    except DomainError as error:
        return render_template("admin/custody_report.html", month=month, lines=None, error=error.message), 422
    if request.args.get("format") == "csv":
        return Response(
            custody.report_csv(month),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="custody-{month}.csv"'},
        )
    return render_template("admin/custody_report.html", month=month, lines=lines, error=None)
