"""Moderating the conversation on campaigns: reported comments, hidden with a reason or kept."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...errors import DomainError
from ...services import comments
from ..comments.forms import ButtonForm, HideForm
from ..forms import submit_form
from . import bp


def _comment_or_404(comment_id):
    try:
        return comments.get_comment(comment_id)
    except DomainError:
        abort(404)


@bp.get("/comments")
def reported_comments():
    return render_template("admin/comments.html", reported=comments.reported(), keep_form=ButtonForm())


@bp.route("/comments/<int:comment_id>/hide", methods=["GET", "POST"])
def hide_comment(comment_id):
    comment = _comment_or_404(comment_id)
    form = HideForm()
    outcome = submit_form(form, lambda: comments.hide(current_user, comment, form.reason.data))
    if outcome.done:
        flash(_("The comment is hidden."), "success")
        return redirect(url_for("admin.reported_comments"))
    return render_template("admin/comment_hide.html", comment=comment, form=form), outcome.status


@bp.post("/comments/<int:comment_id>/keep")
def keep_comment(comment_id):
    comment = _comment_or_404(comment_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    comments.keep(current_user, comment)
    flash(_("The comment stays; its reports are closed."), "success")
    return redirect(url_for("admin.reported_comments"))
