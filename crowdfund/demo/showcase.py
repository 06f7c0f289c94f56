"""Seeding the showcase (catalogue.py): people, firms and a campaign of every kind and outcome,
each made through the services as a person would, with generated pictures and PDFs.

Idempotent like the rest of the seed: each record is looked up first. Campaigns that end are
launched as if weeks ago, with a deadline a couple of minutes ahead; once their pledges are
held they are closed and settled by the production pipeline (`close_and_settle`) at that
deadline, so the books, the statements and the mails are those of a real ending."""

import io
import logging
from datetime import timedelta

from sqlalchemy import select

from ..domain.clock import utcnow
from ..domain.registration_numbers import uscc_check_character
from ..errors import DomainError
from ..extensions import db
from ..models import Firm, Project
from ..services import accounts, campaigns, comments, firms, investors, reviews, stretch_goals, updates
from ..services.projects import basics, documents, equity_terms, story_images, submission, tiers
from ..workflows import checkout
from ..workflows.closing import close_and_settle
from . import images, pdfs
from .catalogue import ADDRESSES, CAMPAIGNS, FIRMS, PEOPLE

log = logging.getLogger(__name__)
ENDING_IN = timedelta(minutes=2)


def seed_showcase(people, demo_firms, password, verify_payouts):
    """Add what is missing of the showcase. `people`: {email: User} of the seed so far (added
    to); `demo_firms`: the seed's own firms, by index; `verify_payouts(firm, owner)`."""
    made = []
    for email, name in PEOPLE:
        user = accounts.find_by_email(email)
        if user is None:
            user = accounts.register(email, password, name)
            user.email_verified_at = utcnow()
            made.append(email)
        people[email] = user
    firm_by_key = dict(enumerate(demo_firms))
    for key, (owner_email, data) in FIRMS.items():
        data = dict(data)
        if "uscc17" in data:
            first17 = data.pop("uscc17")
            data["registration_number"] = first17 + uscc_check_character(first17)
        firm = db.session.scalar(
            select(Firm).where(Firm.country == data["country"], Firm.registration_number == data["registration_number"])
        )
        if firm is None:
            firm = firms.register_firm(people[owner_email], data)
            made.append(data["legal_name"])
        firm_by_key[key] = firm
        db.session.commit()
        verify_payouts(firm, people[owner_email])
    ending = []
    for n, spec in enumerate(CAMPAIGNS):
        if db.session.scalar(select(Project.id).where(Project.title == spec["title"])) is not None:
            continue
        project = _make(spec, n, firm_by_key[spec["firm"]], people)
        made.append(spec["title"])
        if spec["outcome"] != "live":
            ending.append(project)
    if ending:
        close_and_settle(now=max(p.deadline for p in ending) + timedelta(seconds=1))
    db.session.commit()
    return made


def _make(spec, n, firm, people):
    founder = firm.members[0].user
    now = utcnow()
    project = basics.create_project(founder, firm, spec["kind"], {"title": spec["title"], **spec["basics"]})
    theme, colour, accent = spec["picture"]
    cover = images.picture(theme, colour, accent, seed=n)
    documents.upload_document(founder, project, "cover", "cover.jpg", "image/jpeg", io.BytesIO(cover))
    _story_picture(founder, project, theme, colour, accent, n)
    for tier in spec.get("tiers", []):
        tiers.add_tier(founder, project, {"per_backer_limit": "", "estimated_delivery": f"{now.year + 1}-03", **tier})
    for amount, title, description in spec.get("stretch_goals", []):
        stretch_goals.add_stretch_goal(founder, project, {"amount": amount, "title": title, "description": description})
    if spec["kind"] == "equity":
        terms = dict(spec["equity"])
        revenue, profit = terms.pop("revenue"), terms.pop("profit")
        equity_terms.set_equity_terms(founder, project, terms)
        plan = pdfs.business_plan(firm.legal_name, spec["title"], [spec["basics"]["summary"]])
        accounts_pdf = pdfs.financial_statements(firm.legal_name, revenue, profit, spec["basics"]["currency"])
        for kind, content in (("business_plan", plan), ("financial_statements", accounts_pdf)):
            documents.upload_document(founder, project, kind, f"{kind}.pdf", "application/pdf", io.BytesIO(content))
    submission.submit(founder, project)
    admin = next(u for u in people.values() if u.is_admin)
    checks = {k: True for k in reviews.applicable_checks(project)}
    reviews.review_project(admin, project, "approve", checklist=checks, risk_grade="C", note="Checked.")
    if spec["outcome"] == "live":
        campaigns.launch(founder, project, now + timedelta(days=spec["days"]))
    else:  # launched weeks ago; its deadline comes in two minutes, then the seed closes it
        campaigns.launch(founder, project, now + ENDING_IN, now=now + ENDING_IN - timedelta(days=spec["days"]))
    db.session.commit()
    for i, pledge in enumerate(spec.get("pledges", [])):
        _pledge(project, people[pledge[0]], pledge[1:], f"showcase-{project.slug}-{i}")
    for title, body in spec.get("updates", []):
        updates.post_update(founder, project, title, body)
    for email, body in spec.get("comments", []):
        try:
            comments.post_comment(people[email], project, body)
        except DomainError as error:  # a rule of the conversation refused it: the demo goes on
            log.info("demo comment skipped: %s", error)
    db.session.commit()
    return project


def _story_picture(founder, project, theme, colour, accent, n):
    """A second picture, in the story (services/projects/story_images.py)."""
    image = story_images.add_image(
        founder, project, "story.jpg", io.BytesIO(images.picture(theme, accent, colour, seed=n + 100))
    )
    description = project.description + "\n\n" + story_images.markdown_snippet(image) + "\n"
    basics.update_project(founder, project, {"description": description})


def _pledge(project, backer, what, key):
    if project.kind == "equity":
        if investors.get_profile(backer) is None:
            investors.save_profile(
                backer,
                {
                    "currency": project.currency,
                    "annual_income": 30_000_000,
                    "net_worth": 80_000_000,
                    "accredited": False,
                    "other_investments_12m": 0,
                    "risk_acknowledged": True,
                },
            )
            db.session.commit()
        checkout.place_pledge(
            backer, project, idempotency_key=key, payment_method="pm_card_visa", shares=what[0], acknowledge_risks=True
        )
        return
    tier = project.tiers[what[0]]
    address = None
    if tier.shipping != "none":
        country = project.firm.country if tier.shipping == "domestic" else "GB"
        address = {"name": backer.name, **ADDRESSES[country]}
    checkout.place_pledge(
        backer,
        project,
        idempotency_key=key,
        payment_method="pm_card_visa",
        tier_id=tier.id,
        quantity=what[1],
        shipping_address=address,
    )
