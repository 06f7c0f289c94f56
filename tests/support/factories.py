"""Small factories that build valid records through the services, as a user would."""

import io
import itertools
from datetime import timedelta

import pyotp
from flask import current_app

from crowdfund.domain.money import to_minor
from crowdfund.models import utcnow
from crowdfund.services import accounts, campaigns, firms, reviews
from crowdfund.services.projects import basics, documents, equity_terms, submission, tiers

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

# Small files that pass the upload checks (their first bytes are what they claim to be).
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40

# Real, check-character-valid Unified Social Credit Codes (GB 32100-2015).
VALID_USCC = ["91350100M000100Y43", "91110000600037341L"]


def payout_return_url(firm_id):
    return f"http://localhost/firms/{firm_id}/payout-account/return"


def payout_refresh_url(firm_id):
    return f"http://localhost/firms/{firm_id}/payout-account/refresh"


def next_number():
    return next(_seq)


def in_minor_units(data, currency, keys):
    """`data` with the amounts under `keys` in minor units, as the services take them: an amount
    written as a person types it ("5000", "12.50") is read as the web's MoneyField reads it."""
    return {
        key: (to_minor(value, currency, "en") if value.strip() else None)
        if key in keys and isinstance(value, str)
        else value
        for key, value in data.items()
    }


# --- two-factor sign-in: the authenticator app of each account a test enrolled ---------------

_recovery_codes = {}  # secret -> the recovery codes not yet used by otp_for


def enrol_two_factor(user):
    """Turn two-factor sign-in on for `user` as its owner would, with a code from the app (one
    of a minute ago, so the codes of now are still unused). Returns the recovery codes."""
    from crowdfund.services import two_factor

    settings = two_factor.begin_enrolment(user)
    a_minute_ago = utcnow() - timedelta(seconds=60)
    codes = two_factor.confirm_enrolment(user, pyotp.TOTP(settings.secret).at(a_minute_ago), now=a_minute_ago)
    _recovery_codes[settings.secret] = list(codes)
    return codes


def otp_for(user):
    """A code `user`'s app would accept now that the site has not taken yet: the current one,
    else the next (one step either side is accepted); after that, a recovery code."""
    from crowdfund.extensions import db
    from crowdfund.models import UserTwoFactor

    settings = db.session.get(UserTwoFactor, user.id)
    db.session.refresh(settings)  # a request may have used a code since
    totp = pyotp.TOTP(settings.secret)
    current = totp.timecode(utcnow())
    for step in (current, current + 1):
        if step > (settings.last_used_step or 0):
            return totp.generate_otp(step)
    return _recovery_codes[settings.secret].pop()


def pass_second_step(client, user):
    """Answer the sign-in's two-factor step (after a right password) as `user` would."""
    from tests.conftest import csrf_token

    response = client.post(
        "/account/2fa/verify", data={"code": otp_for(user), "csrf_token": csrf_token(client, "/account/2fa/verify")}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


class Factories:
    def __init__(self, db):
        self.db = db

    def user(self, email=None, name="Test Person", password=PASSWORD, admin=False, verified=True, two_factor=None):
        """An account, its email address confirmed unless `verified=False` (then it may not
        pledge, invest or submit a project while EMAIL_VERIFICATION_REQUIRED). Admins have
        two-factor sign-in, as ADMIN_2FA_REQUIRED makes them (`two_factor=False`: not yet);
        anyone else with `two_factor=True`."""
        n = next_number()
        user = accounts.register(email or f"person{n}@example.com", password, name, is_admin=admin)
        if verified:
            user.email_verified_at = utcnow()
        if admin if two_factor is None else two_factor:
            enrol_two_factor(user)
        self.db.session.commit()
        return user

    def admin(self, **kwargs):
        return self.user(admin=True, name="Admin", **kwargs)

    def firm(self, owner=None, payout="verified", **overrides):
        """A registered firm whose payout account the sandbox's onboarding left `payout`
        (verified, pending or restricted; None: no account)."""
        owner = owner or self.user(name="Founder")
        n = next_number()
        data = {
            "legal_name": f"Firm {n} Ltd",
            "country": "GB",
            "registration_number": f"{n:08d}",
            "address": "1 High Street, London",
            "website": "https://example.com",
            "description": "Makes things.",
        }
        data.update(overrides)
        firm = firms.register_firm(owner, data)
        self.db.session.commit()
        if payout:
            self.payout_account(firm, payout)
        return firm

    def payout_account(self, firm, status="verified", *, replace=False):
        """Set up the firm's payout account through the sandbox's onboarding, as its founder
        would, leaving it `status`. Returns the PayoutAccount."""
        from crowdfund.payments import get_gateway
        from crowdfund.workflows import payout_onboarding

        owner = firm.members[0].user
        mode = current_app.config.get("SANDBOX_ACCOUNTS_VERIFY")
        current_app.config["SANDBOX_ACCOUNTS_VERIFY"] = "instant" if status == "verified" else "manual"
        try:
            account, _url = payout_onboarding.start(
                owner, firm.id, return_url=payout_return_url, refresh_url=payout_refresh_url, replace=replace
            )
        finally:
            current_app.config["SANDBOX_ACCOUNTS_VERIFY"] = mode
        if status == "restricted":
            get_gateway().finish_onboarding(account.processor_ref, "restricted")
            payout_onboarding.refresh_ref(account.processor_ref)
        self.db.session.refresh(account)
        assert account.status == status, (account.status, status)
        return account

    # --- campaigns -------------------------------------------------------------------

    @staticmethod
    def founder_of(project):
        return project.firm.members[0].user

    def project(self, firm=None, kind="reward", complete=True, **overrides):
        """A draft project. `complete` adds what submission needs (a tier, or equity terms
        and both disclosure PDFs). Amounts in `overrides`: as typed ("5000") or in minor units."""
        firm = firm or self.firm()
        owner = firm.members[0].user
        n = next_number()
        data = {
            "title": f"Project {n}",
            "summary": "A small thing, made well.",
            "description": "We make **good** things.",
            "category": "design",
            "currency": "USD",
            "goal": "5000",
            "risks": "Suppliers may be late.",
            "use_of_funds": "Tooling and the first batch.",
            "duration_days": "",
        }
        data.update(overrides)
        project = basics.create_project(owner, firm, kind, in_minor_units(data, data["currency"], ("goal",)))
        if complete:
            if kind == "reward":
                self.tier(project)
            else:
                self.equity_terms(project)
                for doc_kind in documents.DISCLOSURE_KINDS:
                    self.document(project, doc_kind)
        self.db.session.commit()
        return project

    def equity_project(self, firm=None, **overrides):
        return self.project(firm=firm, kind="equity", **overrides)

    def equity_terms(self, project, **overrides):
        data = {
            "security_type": "ordinary_shares",
            "price_per_share": "10",
            "shares_offered": "1000",
            "min_shares": "5",
            "pre_money_valuation": "1000000",
            "shares_outstanding": "100000",
        }
        data.update(overrides)
        data = in_minor_units(data, project.currency, ("price_per_share", "pre_money_valuation"))
        offering = equity_terms.set_equity_terms(self.founder_of(project), project, data)
        self.db.session.commit()
        return offering

    def tier(self, project, **overrides):
        data = {
            "title": "Early bird",
            "description": "One of the first.",
            "price": "25",
            "quantity": "100",
            "per_backer_limit": "",
            "estimated_delivery": f"{utcnow().year + 1}-06",
            "shipping": "none",
            "shipping_fee": "0",
        }
        data.update(overrides)
        data = in_minor_units(data, project.currency, ("price", "shipping_fee"))
        tier = tiers.add_tier(self.founder_of(project), project, data)
        self.db.session.commit()
        return tier

    def document(self, project, kind="business_plan", content=None, content_type=None, filename=None):
        if content is None:
            content = PNG_BYTES if kind == "cover" else PDF_BYTES
        content_type = content_type or ("image/png" if kind == "cover" else "application/pdf")
        filename = filename or ("cover.png" if kind == "cover" else f"{kind}.pdf")
        doc = documents.upload_document(
            self.founder_of(project), project, kind, filename, content_type, io.BytesIO(content)
        )
        self.db.session.commit()
        return doc

    def submitted_project(self, firm=None, kind="reward", **overrides):
        project = self.project(firm=firm, kind=kind, **overrides)
        submission.submit(self.founder_of(project), project)
        self.db.session.commit()
        return project

    def approved_project(self, firm=None, kind="reward", reviewer=None, risk_grade="B", **overrides):
        project = self.submitted_project(firm=firm, kind=kind, **overrides)
        reviewer = reviewer or self.admin()
        checklist = {key: True for key in reviews.applicable_checks(project)}
        reviews.review_project(
            reviewer, project, "approve", checklist=checklist, risk_grade=risk_grade, note="Looks good."
        )
        self.db.session.commit()
        return project

    def live_project(self, deadline=None, **kwargs):
        """A launched project. A deadline outside today's launch window (e.g. in the past, for
        closing tests) is reached by launching it as if at a suitable earlier or later time."""
        project = self.approved_project(**kwargs)
        now = utcnow()
        shortest = current_app.config["CAMPAIGN_MIN_DURATION"]
        longest = current_app.config["CAMPAIGN_MAX_DURATION"]
        if deadline is None:
            deadline = now + timedelta(seconds=(shortest + longest) // 2)
        launched = None
        if not (now + timedelta(seconds=shortest) <= deadline <= now + timedelta(seconds=longest)):
            launched = deadline - timedelta(seconds=(shortest + longest) // 2)
        campaigns.launch(self.founder_of(project), project, deadline, now=launched)
        self.db.session.commit()
        return project
