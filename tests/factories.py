"""Small factories that build valid records through the services, as a user would."""
import itertools

from crowdfund.services import accounts, firms

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

# Real, check-character-valid Unified Social Credit Codes (GB 32100-2015).
VALID_USCC = ["91350100M000100Y43", "91110000600037341L"]


def next_number():
    return next(_seq)


class Factories:
    def __init__(self, db):
        self.db = db

    def user(self, email=None, name="Test Person", password=PASSWORD, admin=False):
        n = next_number()
        user = accounts.register(email or f"person{n}@example.com", password, name, is_admin=admin)
        self.db.session.commit()
        return user

    def admin(self, **kwargs):
        return self.user(admin=True, name="Admin", **kwargs)

    def firm(self, owner=None, **overrides):
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
        return firm
