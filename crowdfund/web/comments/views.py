"""Posting on a campaign page, reporting a comment, and pinning answers (the links that stop
its mail: web/notifications)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...errors import DomainError
from ...services import comments
from ...services.projects import access
from ..forms import submit_form
from ..projects.access import visible_project_or_404
from ..request_guards import whole_number
from . import bp
from .forms import ButtonForm, CommentForm, ReportForm


def _comment_link(comment, slug):
    return url_for("projects.show", slug=slug, _anchor=f"comment-{comment.id}")


def visible_comment_or_404(comment_id):
    """A comment on a campaign the viewer may see."""
    try:
        comment = comments.get_comment(comment_id)
    except DomainError:
        abort(404)
    if not access.can_view(current_user, comment.project):
        abort(404)
    return comment


def _parent_id(form):
    """The comment a reply answers (None: a new question); 0 for a value that names none."""
    sent = (form.parent_id.data or "").strip()
    return (whole_number(sent) or 0) if sent else None


@bp.post("/p/<slug>/comments")
@login_required
def post(slug):
    project = visible_project_or_404(slug)
    form = CommentForm()
    outcome = submit_form(
        form, lambda: comments.post_comment(current_user, project, form.body.data, parent_id=_parent_id(form))
    )
    if outcome.done:
        flash(_("Your answer is posted.") if outcome.result.as_firm else _("Your comment is posted."), "success")
        return redirect(_comment_link(outcome.result, project.slug))
    parent = comments.find_on(project, _parent_id(form))
    return render_template("comments/form.html", project=project, form=form, parent=parent), outcome.status


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@login_required
def report(comment_id):
    comment = visible_comment_or_404(comment_id)
    form = ReportForm()
    outcome = submit_form(form, lambda: comments.report(current_user, comment, form.reason.data))
    if outcome.done:
        flash(_("Thank you: the moderators will look at it."), "success")
        return redirect(_comment_link(comment, comment.project.slug))
    return render_template("comments/report.html", comment=comment, project=comment.project, form=form), outcome.status


@bp.post("/comments/<int:comment_id>/pin")
@login_required
def pin(comment_id):
    return _set_pinned(comment_id, True)


@bp.post("/comments/<int:comment_id>/unpin")
@login_required
def unpin(comment_id):
    return _set_pinned(comment_id, False)


def _set_pinned(comment_id, pinned):
    comment = visible_comment_or_404(comment_id)
    if not ButtonForm().validate_on_submit():  # an expired or missing CSRF token
        abort(400)
    try:
        comments.set_pinned(current_user, comment, pinned)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(_comment_link(comment, comment.project.slug))
    flash(_("The answer is in the FAQ.") if pinned else _("The answer is no longer in the FAQ."), "success")
    return redirect(url_for("projects.show", slug=comment.project.slug, _anchor="faq"))
