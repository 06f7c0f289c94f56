from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...errors import DomainError
from ...services import firm_changes, firms, payout_accounts
from ..forms import prefilled_form, submit_form
from . import bp
from .forms import ChangeRequestForm, FirmForm, PayoutForm


def own_firm_or_404(firm_id):
    try:
        firm = firms.get_firm(firm_id)
    except DomainError:
        abort(404)
    if not firm.has_member(current_user):
        abort(404)  # someone else's firm: do not even confirm it exists
    return firm


@bp.get("/")
@login_required
def index():
    return render_template("firms/index.html", firms=current_user.firms)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = FirmForm()
    outcome = submit_form(form, lambda: firms.register_firm(current_user, form.data))
    if outcome.done:
        firm = outcome.result
        flash(
            _("%(name)s is registered. Set up its payouts, then create a project for it.", name=firm.legal_name),
            "success",
        )
        return redirect(url_for("firms.show", firm_id=firm.id))
    return render_template("firms/form.html", form=form, firm=None, locked=False), outcome.status


@bp.get("/<int:firm_id>")
def show(firm_id):
    """The firm's own page for its people; its public profile for anyone else (or ?view=public)."""
    try:
        firm = firms.get_firm(firm_id)
    except DomainError:
        abort(404)
    if not (current_user.is_authenticated and firm.has_member(current_user)) or request.args.get("view") == "public":
        from .profile import public_profile

        return public_profile(firm)
    request_ = firm_changes.pending_request(firm.id)
    return render_template(
        "firms/show.html",
        firm=firm,
        account=payout_accounts.current(firm.id),
        locked=firm_changes.is_locked(firm.id),
        change_request=request_,
        changes=firm_changes.describe(request_) if request_ else [],
        proposed=firm_changes.proposed_account(request_) if request_ else None,
        form=PayoutForm(),
    )


@bp.route("/<int:firm_id>/edit", methods=["GET", "POST"])
@login_required
def edit(firm_id):
    firm = own_firm_or_404(firm_id)
    locked = firm_changes.is_locked(firm.id)
    form = prefilled_form(FirmForm, obj=firm)
    if locked and request.method == "POST":
        # The locked fields are not on the page; one sent anyway is a change to ask for.
        for name in firm_changes.LOCKED_FIELDS:
            if name not in request.form:
                form[name].data = getattr(firm, name)
    outcome = submit_form(form, lambda: firm_changes.update_firm(current_user, firm, form.data, locked="request"))
    if outcome.done:
        if outcome.result.request is not None:
            flash(
                _(
                    "The other details are saved. The firm's legal name, country and registration number are "
                    "locked: your change of them waits for an administrator's approval."
                ),
                "warning",
            )
        else:
            flash(_("The firm's details are saved."), "success")
        return redirect(url_for("firms.show", firm_id=firm.id))
    return render_template("firms/form.html", form=form, firm=firm, locked=locked), outcome.status


@bp.route("/<int:firm_id>/change-request", methods=["GET", "POST"])
@login_required
def change_request(firm_id):
    """Ask an admin to change locked details and/or the payout account."""
    from ...workflows import payout_onboarding

    firm = own_firm_or_404(firm_id)
    if not firm_changes.is_locked(firm.id):
        flash(_("The firm's details are not locked: change them directly."), "info")
        return redirect(url_for("firms.edit", firm_id=firm.id))
    form = prefilled_form(ChangeRequestForm, obj=firm)
    data = {key: form[key].data for key in firm_changes.LOCKED_FIELDS}

    def ask():
        if form.new_payout_account.data:
            return payout_onboarding.propose(
                current_user, firm.id, data, return_url=return_url, refresh_url=refresh_url
            )
        return firm_changes.request_change(current_user, firm, data), None

    outcome = submit_form(form, ask)
    if outcome.done:
        onboarding = outcome.result[1]
        if onboarding:
            return redirect(onboarding, 303)  # the processor's pages; they send the browser back here
        flash(_("Your change waits for an administrator's approval."), "success")
        return redirect(url_for("firms.show", firm_id=firm.id))
    return render_template(
        "firms/change_request.html", form=form, firm=firm, pending=firm_changes.pending_request(firm.id)
    ), outcome.status


def return_url(firm_id):
    return url_for("firms.payout_return", firm_id=firm_id, _external=True)


def refresh_url(firm_id):
    return url_for("firms.payout_refresh", firm_id=firm_id, _external=True)


from . import payouts  # noqa: E402,F401
