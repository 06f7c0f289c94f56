"""Backing a campaign, receipts, the backer's pledges, the investor profile.

The checkout and cancel workflows commit their own steps (a payment call cannot sit
inside a database transaction); these views never commit.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from ...domain.fx import UnknownRate
from ...domain.money import format_money, to_major, to_minor
from ...domain.vocabulary import LATE_PLEDGE
from ...errors import DomainError, NotFound, PermissionDenied
from ...payments import GatewayError
from ...services import backing_quote, entry_checks, investors, own_project, receipts
from ...services.pledge_pricing import is_open
from ...workflows import cancel as cancel_workflow, checkout
from ..forms import apply_domain_error, safe_next
from ..request_guards import whole_number
from . import bp, my_pledges
from .backing_form import add_on_values, as_lines, page_quote, tier_choice
from .forms import BackForm, CancelForm, InvestorProfileForm, new_attempt_key

# The receipt mail (rendered outside any request too) and pages state until when an equity
# commitment may be cancelled.
bp.add_app_template_global(receipts.commitment_cancel_until, "commitment_cancel_until")


@bp.app_template_global("failure_text")
def failure_text(code, message):
    """Why a pledge failed, in the reader's language (the processor's own words are kept on the pledge)."""
    if code == "project_not_live":
        return _(LATE_PLEDGE)
    return receipts.DECLINE_MESSAGES.get(code) or message


def _money_field(form, name, currency):
    """The minor units typed into a money field, None when empty; a field error when unreadable."""
    field = getattr(form, name)
    text = (field.data or "").strip()
    if not text:
        return None
    try:
        return to_minor(text, currency)
    except ValueError as error:
        field.errors = list(field.errors) + [str(error)]
        return None


def _pledge_input(form, project):
    """The form as the service's keyword arguments (money in minor units), or None on errors."""
    data = {"idempotency_key": form.idempotency_key.data, "payment_method": form.payment_method.data}
    if project.kind == "equity":
        data["shares"] = form.shares.data
        data["acknowledge_risks"] = bool(form.acknowledge_risks.data)
        data["acknowledge_large_investment"] = bool(form.acknowledge_large_investment.data)
        return data
    tier = (form.tier_id.data or "").strip()
    tier = "" if tier == "none" else tier  # "No reward", chosen
    if tier and whole_number(tier) is None:
        form.tier_id.errors = list(form.tier_id.errors) + [_("Choose one of the rewards.")]
    data["tier_id"] = whole_number(tier)
    data["quantity"] = form.quantity.data if form.quantity.data is not None else 1
    data["amount"] = _money_field(form, "amount", project.currency)
    data["extra"] = _money_field(form, "extra", project.currency) or 0
    data["shipping_address"] = form.shipping_address()
    values, errors = add_on_values(request.form, project)
    if errors:
        form.form_errors.append(next(iter(errors.values())))
    data["add_ons"] = as_lines(values) or None
    return None if form.errors or errors else data


@bp.route("/p/<slug>/back", methods=["GET", "POST"])
@login_required
def back(slug):
    try:
        # A POST needs only the campaign; the tiers and terms are loaded when a form is shown.
        project = receipts.project_for_backing(slug, with_terms=request.method == "GET")
    except NotFound:
        abort(404)
    form = BackForm()
    status, profile_needed, own_refusal, checks_needed = 200, False, None, None
    if request.method == "GET" and own_project.is_own(current_user.id, project):
        # The firm's people and its approving admin: the refusal, not a form (a POST hears it from the service).
        status, own_refusal = 403, own_project.refusal_message(project)
    quoting = "quote" in request.form  # "Update the total" (no script): no payment
    if request.method == "POST" and is_open(project) and form.validate_on_submit() and not quoting:
        data = _pledge_input(form, project)
        if data is not None:
            title = project.title  # read now: the pledge's commits expire `project`
            try:
                pledge = checkout.place_pledge(current_user, project, return_url=_return_url, **data)
            except DomainError as error:
                apply_domain_error(form, error)
                status = error.status
                profile_needed = error.code == "investor_profile_required"
                checks_needed = CHECKS_NEEDED.get(error.code)
                own_refusal = error.message if error.code == "own_project" else None
            else:
                if pledge.status == "held":
                    flash(
                        _("Thank you! %(amount)s is held in escrow for %(title)s.", amount=_money(pledge), title=title),
                        "success",
                    )
                action_url = (pledge.next_action or {}).get("url") if pledge.status == "requires_action" else None
                # The bank's or the wallet's page; it sends the backer back to `payment_return`.
                return redirect(action_url or url_for("pledges.receipt", pledge_id=pledge.id))
    if request.method == "POST" and status == 200 and (not quoting or form.errors):
        status = 422
    if request.method == "GET" and whole_number(request.args.get("tier")):
        form.tier_id.data = request.args["tier"]  # "Choose this reward" on the project page
    form.idempotency_key.data = new_attempt_key()  # every rendering is a new attempt
    page = receipts.backing_page(project, current_user)  # after a refusal: reloaded, the counts may have moved
    values = add_on_values(request.form, page.project)[0] if request.method == "POST" else {}
    return render_template(
        "pledges/back.html",
        page=page,
        project=page.project,
        form=form,
        chosen=tier_choice(form),
        add_on_values=values,
        quote=page_quote(page.project, form, values) if page.project.kind == "reward" else None,
        figures=backing_quote.figures(page.project) if page.project.kind == "reward" else None,
        profile_needed=profile_needed,
        checks_needed=checks_needed,
        large_investment_mark=_large_investment_mark(page.project),
        own_refusal=own_refusal,
        cancel_until=receipts.cancel_deadline(page.project),
    ), status


# Refusals that send the investor to a page of their own (crowdfund/web/pledges/investor_checks.py).
CHECKS_NEEDED = {
    "knowledge_test_required": "entry_checks",
    "loss_simulation_required": "entry_checks",
    "qualification_required": "qualification",
}


def _large_investment_mark(project):
    """eu_ecsp: the amount above which this investor is warned about one project (None: no warning)."""
    if project.kind != "equity":
        return None
    profile = investors.get_profile(current_user)
    if profile is None:
        return None
    try:
        return entry_checks.warning_mark(profile, project.currency)
    except UnknownRate:
        return None


def _money(pledge):
    """The pledge's amount for a flash, formatted for the reader's language."""
    return format_money(pledge.amount, pledge.currency, locale=str(get_locale() or "en"))


def _return_url(pledge_id):
    return url_for("pledges.payment_return", pledge_id=pledge_id, _external=True)


def _own_pledge_or_404(pledge_id):
    try:
        return receipts.get_pledge_for(current_user, pledge_id)
    except NotFound:
        abort(404)


@bp.get("/pledges/<int:pledge_id>")
@login_required
def receipt(pledge_id):
    pledge = _own_pledge_or_404(pledge_id)
    return render_template(
        "pledges/receipt.html",
        r=receipts.receipt(pledge),
        cancel_form=CancelForm(next=url_for("pledges.receipt", pledge_id=pledge_id)),
    )


@bp.get("/pledges/<int:pledge_id>/return")
@login_required
def payment_return(pledge_id):
    """Where the bank or the wallet sends the backer back: look at the payment again, then
    show the receipt. The webhook may have been first; either way the outcome is the same."""
    _own_pledge_or_404(pledge_id)
    try:
        pledge = checkout.check_payment(pledge_id)
    except DomainError as error:  # paid after the campaign closed: refunded at once
        flash(error.message, "error")
    except GatewayError:
        flash(
            _(
                "We could not reach the payment processor just now. Your pledge is shown below; this page "
                "will show the outcome as soon as the processor tells us."
            ),
            "error",
        )
    else:
        if pledge.status == "held":
            flash(
                _(
                    "Thank you! %(amount)s is held in escrow for %(title)s.",
                    amount=_money(pledge),
                    title=pledge.project.title,
                ),
                "success",
            )
    return redirect(url_for("pledges.receipt", pledge_id=pledge_id), 303)


@bp.post("/pledges/<int:pledge_id>/cancel")
@login_required
def cancel(pledge_id):
    _own_pledge_or_404(pledge_id)
    form = CancelForm()
    target = safe_next(form.next.data, "pledges.mine")
    if not form.validate_on_submit():
        flash(_("This form has expired. Please try again."), "error")
        return redirect(target)
    try:
        pledge = cancel_workflow.cancel_pledge(current_user, pledge_id)
    except PermissionDenied:
        abort(403)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(
            _("Your pledge is cancelled. %(amount)s is on its way back to your card.", amount=_money(pledge)), "success"
        )
    return redirect(target)


@bp.get("/me/pledges")
@login_required
def mine():
    mine = my_pledges.my_pledges(current_user)
    return render_template("pledges/mine.html", receipts=mine.receipts, mine=mine, cancel_form=CancelForm())


def _major_text(minor, currency):
    return f"{to_major(minor, currency):f}" if minor is not None else ""


@bp.route("/me/investor-profile", methods=["GET", "POST"])
@login_required
def investor_profile():
    profile = investors.get_profile(current_user)
    form = InvestorProfileForm(next=request.args.get("next", ""))
    if request.method == "GET" and profile is not None:
        form.currency.data = profile.currency
        form.annual_income.data = _major_text(profile.annual_income, profile.currency)
        form.net_worth.data = _major_text(profile.net_worth, profile.currency)
        form.other_investments_12m.data = _major_text(profile.other_investments_12m, profile.currency)
        form.accredited.data = profile.accredited
        form.risk_acknowledged.data = profile.risk_acknowledged_at is not None
    if form.validate_on_submit():
        currency = form.currency.data
        data = {
            "currency": currency,
            "accredited": form.accredited.data,
            "risk_acknowledged": form.risk_acknowledged.data,
            "annual_income": _money_field(form, "annual_income", currency),
            "net_worth": _money_field(form, "net_worth", currency),
            "other_investments_12m": _money_field(form, "other_investments_12m", currency) or 0,
        }
        if not form.errors:
            try:
                investors.save_profile(current_user, data)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                flash(_("Your investor profile is saved."), "success")
                return redirect(safe_next(form.next.data, "pledges.investor_profile"))
    return render_template("pledges/investor_profile.html", form=form, profile=profile), 422 if form.errors else 200
