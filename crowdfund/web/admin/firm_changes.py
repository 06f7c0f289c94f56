"""Admin: requests to change a firm's locked details (legal name, country, registration
number, payout account), approved or rejected here (services/firm_changes.py)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...errors import DomainError
from ...services import firm_changes, payout_accounts
from ..forms import Form, apply_domain_error
from ..projects.forms import choices
from . import bp

DECISIONS = {"approve": _l("Approve: apply the change"), "reject": _l("Reject: keep the details as they are")}


class DecideForm(Form):
    decision = RadioField(_l("Decision"), choices=choices(DECISIONS.items()), validators=[DataRequired()])
    reason = TextAreaField(
        _l("Note for the firm"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Required when you reject; the firm's people see it."),
    )
    submit = SubmitField(_l("Record the decision"))


@bp.get("/firm-changes")
def firm_changes_queue():
    pending, decided = firm_changes.admin_queue()
    fields = {change.id: [str(item.label) for item in firm_changes.describe(change)] for change in pending + decided}
    return render_template("admin/firm_changes.html", pending=pending, decided=decided, fields=fields)


@bp.route("/firm-changes/<int:request_id>", methods=["GET", "POST"])
def firm_change(request_id):
    from ...workflows import payout_onboarding

    try:
        change = firm_changes.get_request(request_id)
    except DomainError:
        abort(404)
    form = DecideForm()
    status = 200
    if form.validate_on_submit():
        if form.decision.data == "approve" and change.payout_account_id:
            # What the processor says now, not what we last heard: approval needs it verified.
            payout_onboarding.refresh_quietly(change.firm_id)
        try:
            if form.decision.data == "approve":
                firm_changes.approve(current_user, request_id, reason=form.reason.data)
            else:
                firm_changes.reject(current_user, request_id, reason=form.reason.data)
        except DomainError as error:
            apply_domain_error(form, error)
            status = error.status
        else:
            flash(_("The decision is recorded."), "success")
            return redirect(url_for("admin.firm_changes_queue"))
    elif form.is_submitted():
        status = 422
    change = firm_changes.get_request(request_id)
    current = payout_accounts.current(change.firm_id)
    return render_template(
        "admin/firm_change.html",
        change=change,
        changes=firm_changes.describe(change),
        proposed=firm_changes.proposed_account(change),
        current=current,
        form=form,
        own_firm=change.firm.has_member(current_user),
    ), status
