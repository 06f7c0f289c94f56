"""Demo data for `make run`. Idempotent: each record is looked up before it is made.

Everything goes through the services, exactly as people would create it: two firms (each
with a payout account verified by the sandbox's onboarding), a live reward campaign with
pledges, a live equity offering, and a project waiting for review (so the admin queue has
something in it); then the showcase (crowdfund/demo/): more firms, some writing in Chinese,
and campaigns of every category, kind and outcome, with pictures and PDFs made at seed time.
"""

import io
from datetime import timedelta

from sqlalchemy import select

from .demo import images, pdfs, showcase
from .domain.clock import utcnow
from .extensions import db
from .models import Firm, Project
from .payments import get_gateway
from .services import accounts, campaigns, firms, investors, payout_accounts, reviews
from .services.projects import basics, documents, equity_terms, submission, tiers
from .workflows import checkout, payout_onboarding

DEMO_PASSWORD = "demo-password-1"
DEMO_USERS = [
    ("admin@example.com", "Ada Admin", True),
    ("founder@example.com", "Fang Founder", False),
    ("maker@example.com", "Morgan Maker", False),
    ("backer@example.com", "Bo Backer", False),
]
DEMO_FIRMS = [
    (
        "founder@example.com",
        {
            "legal_name": "Hangzhou Lantern Tea Co., Ltd.",
            "country": "CN",
            "registration_number": "91350100M000100Y43",
            "address": "88 Longjing Road, Xihu District, Hangzhou",
            "website": "https://lantern-tea.example",
            "description": "Small-batch green tea from three family gardens above West Lake.",
        },
    ),
    (
        "maker@example.com",
        {
            "legal_name": "Northfold Bicycles Ltd",
            "country": "GB",
            "registration_number": "SC123456",
            "address": "4 Canal Street, Glasgow",
            "website": "https://northfold.example",
            "description": "Folding bicycles built in Glasgow.",
        },
    ),
]
STORY = """First-flush Longjing is picked for only three weeks each spring. We buy it straight from the
families who grow it, roast it by hand the same day, and ship it while it is still fresh.

**What your pledge pays for:** a second roasting pan, air-tight tins, and fair prices for the gardens.

- Picked in late March, roasted within hours
- Every tin carries the garden's name
"""
# Amounts in minor units (fen, pence), as the services take them.
DEMO_PROJECTS = [
    {
        "slug_title": "Lantern Tea: first-flush Longjing, direct from the garden",
        "firm": 0,
        "kind": "reward",
        "state": "live",
        "cover": (15, 118, 110),
        "basics": {
            "summary": "Spring's first tea, hand-roasted the day it is picked and sent to you fresh.",
            "description": STORY,
            "category": "food",
            "currency": "CNY",
            "goal": 5_000_000,
            "risks": "A late frost can shrink the harvest; we would then ship in May instead of April.",
            "use_of_funds": "A second roasting pan (40%), tins and packaging (35%), shipping (25%).",
        },
        "tiers": [
            {
                "title": "A tin of first-flush",
                "description": "50 g of this spring's Longjing.",
                "price": 12_800,
                "quantity": "500",
                "shipping": "domestic",
                "shipping_fee": 1_200,
            },
            {
                "title": "Tasting set and cup",
                "description": "Three gardens side by side, with a glass cup.",
                "price": 36_800,
                "quantity": "100",
                "shipping": "domestic",
                "shipping_fee": 1_200,
            },
            {
                "title": "A day in the garden",
                "description": "Pick and roast with us for a day next spring.",
                "price": 288_800,
                "quantity": "10",
                "shipping": "none",
                "shipping_fee": 0,
            },
        ],
        "pledges": [(0, 2), (1, 1)],
    },
    {
        "slug_title": "Own a share of Lantern Tea",
        "firm": 0,
        "kind": "equity",
        "state": "live",
        "cover": (180, 83, 9),
        "basics": {
            "summary": "Ordinary shares in a profitable tea house, at a fixed price.",
            "description": "We have sold out every spring for four years. Now we want our own roastery.",
            "category": "food",
            "currency": "CNY",
            "goal": 30_000_000,
            "risks": "You can lose all the money you invest. Shares in a small private firm are hard to sell.",
            "use_of_funds": "A roastery building (70%) and working capital (30%).",
        },
        "equity": {
            "security_type": "ordinary_shares",
            "price_per_share": 5_000,
            "shares_offered": "20000",
            "min_shares": "10",
            "pre_money_valuation": 1_000_000_000,
            "shares_outstanding": "200000",
        },
    },
    {
        "slug_title": "Northfold: the 9 kg folding bicycle",
        "firm": 1,
        "kind": "reward",
        "state": "in_review",
        "cover": (30, 64, 175),
        "basics": {
            "summary": "A full-size ride that folds into a carry-on in ten seconds.",
            "description": "Steel frame, belt drive, three gears.",
            "category": "design",
            "currency": "GBP",
            "goal": 4_000_000,
            "risks": "Frame tooling may take longer than planned.",
            "use_of_funds": "Frame tooling and the first run of 200 bicycles.",
        },
        "tiers": [
            {
                "title": "Early bird Northfold",
                "description": "One bicycle, any colour.",
                "price": 59_000,
                "quantity": "200",
                "shipping": "worldwide",
                "shipping_fee": 4_500,
            }
        ],
    },
]
# The covers drawn at seed time (crowdfund/demo/images.py): theme, scene colour, object colour.
DEMO_PICTURES = {
    "Lantern Tea: first-flush Longjing, direct from the garden": ("tea", (15, 118, 110), (214, 158, 46)),
    "Own a share of Lantern Tea": ("ceramics", (180, 83, 9), (254, 243, 199)),
    "Northfold: the 9 kg folding bicycle": ("bicycle", (30, 64, 175), (250, 204, 21)),
}


def seed_demo():
    made = []
    people = {}
    for email, name, is_admin in DEMO_USERS:
        user = accounts.find_by_email(email)
        if user is None:
            user = (
                accounts.make_admin(email, DEMO_PASSWORD, name)
                if is_admin
                else accounts.register(email, DEMO_PASSWORD, name)
            )
            user.email_verified_at = utcnow()  # demo addresses receive no mail: confirmed from the start
            made.append(email)
        people[email] = user
    demo_firms = []
    for owner_email, data in DEMO_FIRMS:
        firm = db.session.scalar(
            select(Firm).where(Firm.country == data["country"], Firm.registration_number == data["registration_number"])
        )
        if firm is None:
            firm = firms.register_firm(people[owner_email], data)
            made.append(data["legal_name"])
        demo_firms.append(firm)
    db.session.commit()
    for (owner_email, _data), firm in zip(DEMO_FIRMS, demo_firms):
        _verified_payout_account(firm, people[owner_email])
    for spec in DEMO_PROJECTS:
        if _find_project(spec["slug_title"]) is None:
            _make_project(spec, demo_firms[spec["firm"]], people)
            made.append(spec["slug_title"])
    db.session.commit()
    # A campaign of every category, kind and outcome, from more firms (crowdfund/demo/).
    made += showcase.seed_showcase(people, demo_firms, DEMO_PASSWORD, _verified_payout_account)
    if not made:
        return "Demo data already present; nothing added."
    return f"Demo data added: {', '.join(made)}. Password for every demo account: {DEMO_PASSWORD}"


def _verified_payout_account(firm, owner):
    """The firm's sandbox payout account, onboarded as its founder would (demo campaigns must
    launch, and their money be paid out, whatever SANDBOX_ACCOUNTS_VERIFY says)."""
    if payout_accounts.verified_destination(firm.id) is not None:
        return
    account, _url = payout_onboarding.start(
        owner,
        firm.id,
        return_url=lambda i: f"/firms/{i}/payout-account/return",
        refresh_url=lambda i: f"/firms/{i}/payout-account/refresh",
    )
    if account.status != "verified":
        get_gateway().finish_onboarding(account.processor_ref, "verified")
        payout_onboarding.refresh_ref(account.processor_ref)


def _find_project(title):
    return db.session.scalar(select(Project).where(Project.title == title))


def _make_project(spec, firm, people):
    founder = firm.members[0].user
    project = basics.create_project(founder, firm, spec["kind"], {"title": spec["slug_title"], **spec["basics"]})
    for tier in spec.get("tiers", []):
        tiers.add_tier(founder, project, {"per_backer_limit": "", "estimated_delivery": _next_spring(), **tier})
    if spec["kind"] == "equity":
        equity_terms.set_equity_terms(founder, project, spec["equity"])
        disclosures = {
            "business_plan": pdfs.business_plan(firm.legal_name, spec["slug_title"], [spec["basics"]["summary"]]),
            "financial_statements": pdfs.financial_statements(firm.legal_name, "2,460,000", "318,000", "CNY"),
        }
        for kind in documents.DISCLOSURE_KINDS:
            documents.upload_document(
                founder, project, kind, f"{kind}.pdf", "application/pdf", io.BytesIO(disclosures[kind])
            )
    cover = images.picture(*DEMO_PICTURES[spec["slug_title"]])
    documents.upload_document(founder, project, "cover", "cover.jpg", "image/jpeg", io.BytesIO(cover))
    submission.submit(founder, project)
    if spec["state"] == "in_review":
        return
    admin = people["admin@example.com"]
    reviews.review_project(
        admin,
        project,
        "approve",
        checklist={k: True for k in reviews.applicable_checks(project)},
        risk_grade="B",
        note="Documents checked; the gardens' contracts are in order.",
    )
    campaigns.launch(founder, project, utcnow() + timedelta(days=28))
    db.session.commit()
    backer = people["backer@example.com"]
    for n, (tier_index, quantity) in enumerate(spec.get("pledges", [])):
        tier = project.tiers[tier_index]
        checkout.place_pledge(
            backer,
            project,
            idempotency_key=f"demo-{project.slug}-{n}",
            payment_method="pm_card_visa",
            tier_id=tier.id,
            quantity=quantity,
            shipping_address={
                "name": "Bo Backer",
                "line1": "1 Xueyuan Road",
                "city": "Hangzhou",
                "postal_code": "310000",
                "country": "CN",
            }
            if tier.shipping != "none"
            else None,
        )
    if spec["kind"] == "equity":
        investors.save_profile(
            backer,
            {
                "currency": "CNY",
                "annual_income": 30_000_000,
                "net_worth": 80_000_000,
                "accredited": False,
                "other_investments_12m": 0,
                "risk_acknowledged": True,
            },
        )
        db.session.commit()
        checkout.place_pledge(
            backer,
            project,
            idempotency_key=f"demo-{project.slug}-shares",
            payment_method="pm_card_visa",
            shares=40,
            acknowledge_risks=True,
        )


def _next_spring():
    return f"{utcnow().year + 1}-04"
