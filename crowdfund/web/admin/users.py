"""Admin: suspending an account (no sign-in, no API, no new pledges) and lifting it
(services/suspensions.py). The list of users is in views.py."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...errors import DomainError, NotFound
from ...services import suspensions
from ..forms import Form, submit_form
from . import bp


class SuspendUserForm(Form):
    reason = TextAreaField(
        _l("Why is the account suspended?"),
        validators=[DataRequired(), Length(max=suspensions.REASON_MAX)],
        description=_l(
            "Kept in the audit record with your name. The site does not show it to the "
            "person, but it is part of the data they can download."
        ),
    )
    submit = SubmitField(_l("Suspend the account"))


class LiftSuspensionForm(Form):
    note = TextAreaField(_l("Note for the record"), validators=[Optional(), Length(max=suspensions.REASON_MAX)])
    submit = SubmitField(_l("Lift the suspension"))


def _user_or_404(user_id):
    try:
        return suspensions.get_user(user_id)
    except NotFound:
        abort(404)


@bp.route("/users/<int:user_id>/suspend", methods=["GET", "POST"])
def suspend_user(user_id):
    user = _user_or_404(user_id)
    form = SuspendUserForm()
    outcome = submit_form(form, lambda: suspensions.suspend(current_user, user, form.reason.data))
    if outcome.done:
        flash(_("%(name)s's account is suspended.", name=user.name), "success")
        return redirect(url_for("admin.users", q=user.email))
    return render_template(
        "admin/user_suspend.html", user=user, form=form, lift_form=LiftSuspensionForm(formdata=None)
    ), outcome.status


@bp.post("/users/<int:user_id>/unsuspend")
def unsuspend_user(user_id):
    user = _user_or_404(user_id)
    form = LiftSuspensionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        suspensions.lift(current_user, user, form.note.data)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("%(name)s's account is no longer suspended.", name=user.name), "success")
    return redirect(url_for("admin.users", q=user.email))
