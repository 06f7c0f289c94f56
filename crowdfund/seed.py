"""Demo data for `make run`. Idempotent: each record is looked up before it is made."""
from sqlalchemy import select

from .extensions import db
from .models import Firm
from .services import accounts, firms

DEMO_PASSWORD = "demo-password-1"
DEMO_USERS = [
    ("admin@example.com", "Ada Admin", True),
    ("founder@example.com", "Fang Founder", False),
    ("backer@example.com", "Bo Backer", False),
]
DEMO_FIRMS = [
    {"legal_name": "Hangzhou Lantern Tea Co., Ltd.", "country": "CN",
     "registration_number": "91350100M000100Y43", "address": "88 Longjing Road, Hangzhou",
     "website": "https://lantern-tea.example", "description": "Small-batch tea from family gardens."},
]


def seed_demo():
    made = []
    people = {}
    for email, name, is_admin in DEMO_USERS:
        user = accounts.find_by_email(email)
        if user is None:
            user = (accounts.make_admin(email, DEMO_PASSWORD, name) if is_admin
                    else accounts.register(email, DEMO_PASSWORD, name))
            made.append(email)
        people[email] = user
    for data in DEMO_FIRMS:
        exists = db.session.scalar(select(Firm).where(
            Firm.country == data["country"], Firm.registration_number == data["registration_number"]))
        if exists is None:
            firms.register_firm(people["founder@example.com"], data)
            made.append(data["legal_name"])
    if not made:
        return "Demo data already present; nothing added."
    return f"Demo data added: {', '.join(made)}. Password for every demo account: {DEMO_PASSWORD}"
