"""cn: only qualified investors invest. An investor states their financial assets or annual
income (at least QUALIFIED_INVESTOR_FINANCIAL_ASSETS / QUALIFIED_INVESTOR_ANNUAL_INCOME, major
units of the rulebook's currency: CNY) and uploads evidence; an admin approves or refuses it,
with an audit row (`StateChange`, entity "qualification") and a mail to the investor. Until
one is approved, commitments are refused (409 `qualification_required`).

The evidence is a PDF or an image, judged by its first bytes, size-limited
(UPLOAD_MAX_EVIDENCE_BYTES) and stored under instance/private/qualifications with a random
name: no public route serves that folder; only an admin's page sends a file from it.
"""

import hashlib
import secrets
from pathlib import Path

from flask import current_app, has_request_context, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import select

from ..domain import rulebooks
from ..domain.clock import utcnow
from ..domain.files import extension, normalise_content_type, sniff
from ..domain.investment_limits import major_to_minor
from ..domain.money import format_money, max_minor
from ..errors import Conflict, NotFound, PermissionDenied, ValidationError
from ..extensions import db
from ..models import InvestorQualification, StateChange
from ..models.investor_checks import QualificationStatus as Q
from . import use_case
from .investors import rulebook
from .mail_outbox import _queue_one
from .reviews import require_admin

ENTITY = "qualification"  # StateChange.entity of a qualification's life
EVIDENCE_TYPES = ("application/pdf", "image/jpeg", "image/png")
BASES = {
    "financial_assets": _l("Financial assets"),
    "annual_income": _l("Annual income (average over the last three years)"),
}
STATUS_WORDS = {Q.PENDING: _l("waiting for review"), Q.APPROVED: _l("approved"), Q.REFUSED: _l("refused")}


def required():
    return rulebooks.qualification_required(rulebook())


def thresholds():
    """{basis: minimum in minor units of the rulebook's currency} for the bases in force."""
    book = rulebook()
    figures = {"financial_assets": book.qualified_financial_assets, "annual_income": book.qualified_annual_income}
    return {basis: major_to_minor(major, book.currency) for basis, major in figures.items() if major is not None}


def _money(minor, currency):
    return format_money(minor, currency, locale=str(get_locale() or "en"))


def latest(user):
    return db.session.scalar(
        select(InvestorQualification)
        .where(InvestorQualification.user_id == user.id)
        .order_by(InvestorQualification.id.desc())
        .limit(1)
    )


def is_qualified(user):
    return (
        db.session.scalar(
            select(InvestorQualification.id)
            .where(InvestorQualification.user_id == user.id, InvestorQualification.status == Q.APPROVED)
            .limit(1)
        )
        is not None
    )


def page_url():
    return url_for("pledges.qualification", _external=True) if has_request_context() else "/me/qualification"


def require_qualified(user):
    if not required() or is_qualified(user):
        return
    current = latest(user)
    if current is not None and current.status == Q.PENDING:
        raise Conflict(
            _("Your proof of being a qualified investor is waiting for review; you can invest once it is approved."),
            code="qualification_pending",
        )
    raise Conflict(
        _(
            "Only qualified investors may invest here. Please show your financial assets or income first: %(url)s",
            url=page_url(),
        ),
        code="qualification_required",
    )


def evidence_dir():
    path = Path(current_app.instance_path) / "private" / "qualifications"
    path.mkdir(parents=True, exist_ok=True)
    return path


def evidence_path(qualification):
    return evidence_dir() / qualification.evidence_stored_name


def _audit(qualification, from_state, to_state, actor, note=""):
    db.session.add(
        StateChange(
            entity=ENTITY,
            entity_id=qualification.id,
            from_state=from_state,
            to_state=to_state,
            actor_id=getattr(actor, "id", actor),
            note=note,
        )
    )


@use_case
def submit(user, *, basis, amount, filename, content_type, stream):
    """Record the investor's claim (`amount`: minor units of the rulebook's currency) with its evidence."""
    book = rulebook()
    minimums = thresholds()
    if not minimums:
        raise Conflict(
            _("The investor rules in force here ask for no proof of qualification."), code="qualification_not_required"
        )
    errors = {}
    if basis not in minimums:
        errors["basis"] = _("Choose what you show: your financial assets or your annual income.")
    if type(amount) is not int or amount < 0:
        errors["amount"] = _("Enter the amount as a whole number.")
    elif amount > max_minor(book.currency):
        errors["amount"] = _("That amount is too large.")
    elif basis in minimums and amount < minimums[basis]:
        errors["amount"] = _(
            "A qualified investor has at least %(amount)s of %(what)s.",
            amount=_money(minimums[basis], book.currency),
            what=str(BASES[basis]).lower(),
        )
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    current = latest(user)
    if current is not None and current.status == Q.PENDING:
        raise Conflict(_("Your earlier proof is still waiting for review."), code="qualification_pending")
    content, actual = _read_evidence(content_type, stream)
    stored_name = secrets.token_urlsafe(24) + extension(actual)
    qualification = InvestorQualification(
        user_id=user.id,
        status=Q.PENDING,
        basis=basis,
        amount=amount,
        currency=book.currency,
        evidence_filename=Path((filename or "").replace("\\", "/")).name.strip()[:200]
        or "evidence" + extension(actual),
        evidence_stored_name=stored_name,
        evidence_content_type=actual,
        evidence_size=len(content),
        evidence_sha256=hashlib.sha256(content).hexdigest(),
        submitted_at=utcnow(),
    )
    db.session.add(qualification)
    db.session.flush()
    _audit(qualification, None, Q.PENDING, user)
    # Written before the commit: a rollback leaves an orphan file with a random name, never a
    # row pointing at a missing file.
    with open(evidence_dir() / stored_name, "xb") as out:
        out.write(content)
    db.session.flush()
    return qualification


def _read_evidence(content_type, stream):
    def refuse(message):
        raise ValidationError(message, fields={"file": message})

    declared = normalise_content_type(content_type)
    if stream is None:
        refuse(_("Attach your evidence: a PDF or an image (JPEG or PNG)."))
    if declared not in EVIDENCE_TYPES:
        refuse(_("The evidence must be a PDF or an image (JPEG or PNG)."))
    limit = current_app.config["UPLOAD_MAX_EVIDENCE_BYTES"]
    content = stream.read(limit + 1)
    if not content:
        refuse(_("The file is empty."))
    if len(content) > limit:
        refuse(_("The file is too large: at most %(size)s MB.", size=f"{limit / 1024 / 1024:.3g}"))
    actual = sniff(content[:32])
    if actual != declared:
        refuse(_("This file is not really a PDF or an image: its contents do not match its type."))
    return content, actual


# -- an admin decides ------------------------------------------------------------------------------


def _decidable(admin, qualification_id):
    require_admin(admin)
    qualification = db.session.scalar(
        select(InvestorQualification)
        .where(InvestorQualification.id == qualification_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if qualification is None:
        raise NotFound(_("There is no such proof of qualification."))
    if qualification.user_id == admin.id:
        raise PermissionDenied(_("You cannot review your own proof of qualification."))
    if qualification.status != Q.PENDING:
        raise Conflict(_("This proof was already reviewed."), code="wrong_state")
    return qualification


@use_case
def approve(admin, qualification_id, *, reason=""):
    qualification = _decidable(admin, qualification_id)
    _decide(qualification, Q.APPROVED, admin, reason)
    return qualification


@use_case
def refuse(admin, qualification_id, *, reason):
    qualification = _decidable(admin, qualification_id)
    if not (reason or "").strip():
        message = _("Write a note for the investor saying why the proof is refused.")
        raise ValidationError(message, fields={"reason": message})
    _decide(qualification, Q.REFUSED, admin, reason)
    return qualification


def _decide(qualification, status, admin, reason):
    qualification.status, qualification.decided_by_id, qualification.decided_at = status, admin.id, utcnow()
    qualification.reason = (reason or "").strip()
    _audit(qualification, Q.PENDING, status, admin, qualification.reason or status)
    db.session.flush()
    approved = status == Q.APPROVED
    _queue_one(
        f"qualification_decided:{qualification.id}",
        qualification.user,
        "mail/qualification_decided.txt",
        (lambda: _("You are confirmed as a qualified investor"))
        if approved
        else (lambda: _("Your proof of being a qualified investor was refused")),
        qualification=qualification,
        approved=approved,
        page_url=page_url(),
    )


def get(qualification_id):
    qualification = db.session.get(InvestorQualification, qualification_id)
    if qualification is None:
        raise NotFound(_("There is no such proof of qualification."))
    return qualification


def admin_queue(limit=50):
    """(waiting, oldest first; recently decided, newest first)."""
    pending = db.session.scalars(
        select(InvestorQualification)
        .where(InvestorQualification.status == Q.PENDING)
        .order_by(InvestorQualification.id)
        .limit(limit)
    ).all()
    decided = db.session.scalars(
        select(InvestorQualification)
        .where(InvestorQualification.status != Q.PENDING)
        .order_by(InvestorQualification.decided_at.desc(), InvestorQualification.id.desc())
        .limit(limit)
    ).all()
    return pending, decided
