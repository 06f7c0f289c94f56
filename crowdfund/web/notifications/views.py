"""/account/notifications (signed in), /mail/unsubscribe/<kind>/<token> (the link in a
message: no sign-in needed, the signed link is the credential), and the "Remind me" button
of a campaign page (POST /p/<slug>/remind)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...errors import DomainError
from ...extensions import csrf
from ...services import mail_choices, reminders
from ...services.signed_links import LinkRefused
from ..forms import Form
from ..projects.access import visible_project_or_404
from . import bp


def _wanted(form_data):
    """{kind: on} from the choices form: a box sent is on, a box missing is off."""
    ticked = set(form_data.getlist("on"))
    return {kind: kind in ticked for kind in mail_choices.KINDS}


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def choices():
    form = Form()  # its CSRF token only: the boxes are read as a list
    if request.method == "POST":
        if form.validate_on_submit():
            mail_choices.choose(current_user, _wanted(request.form))
            flash(_("Your email choices are saved."), "success")
            return redirect(url_for("notifications.choices"))
    return render_template(
        "notifications/choices.html", form=form, choices=mail_choices.choices(current_user), labels=mail_choices.KINDS
    ), (400 if form.errors else 200)


@bp.route("/mail/unsubscribe/<kind>/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the credential; a mail program's one-click POST has no form token
def unsubscribe(kind, token):
    """GET: what the link stops, one button, and every choice. POST: the button, or a mail
    program's one-click unsubscribe (RFC 8058: `List-Unsubscribe=One-Click`), stops `kind`
    (ALL: every optional kind); the choices form (`save`) sets each kind."""
    try:
        user = mail_choices.reader_of(kind, token)
    except LinkRefused as refusal:
        return render_template("notifications/unsubscribe.html", refused=refusal.message), 400
    done = saved = False
    if request.method == "POST":
        if "save" in request.form:
            mail_choices.choose(user, _wanted(request.form))
            saved = True
        else:
            mail_choices.unsubscribe(user, kind)
            done = True
    return render_template(
        "notifications/unsubscribe.html",
        kind=kind,
        what=mail_choices.label(kind),
        email=user.email,
        done=done,
        saved=saved,
        choices=mail_choices.choices(user),
        labels=mail_choices.KINDS,
    )


@bp.post("/p/<slug>/remind")
@login_required
def remind(slug):
    """The "Remind me" button: `on` 1 sets the reminder, 0 cancels it."""
    project = visible_project_or_404(slug)
    form = Form()
    if not form.validate_on_submit():
        abort(400)
    on = request.form.get("on") == "1"
    try:
        reminders.set_reminder(current_user, project, on)
    except DomainError as refusal:
        flash(refusal.message, "error")
    else:
        flash(_("We will email you before this campaign ends.") if on else _("The reminder is cancelled."), "success")
    return redirect(url_for("projects.show", slug=project.slug))
