"""What the bad-input sweeps (tests/web and tests/api `test_bad_input_sweep.py`) send, and how
they tell that nothing was written.

A request that raises (the test app propagates exceptions) counts as the 500 it would be in
production; each sweep collects every such answer and fails once, listing them all.
"""

import hashlib
import re

from crowdfund.extensions import db as _db

# Ids past what the columns hold: INTEGER, BIGINT, and past both (31 digits).
HUGE_IDS = (2**31, 2**63, 10**30)

NUL = "a\x00b"
CONTROL = "a\x01b\x1bc\x7f"
LONG = "x" * 50_001  # past the longest field (a story, 50,000); under the form parser's limit
MEGABYTE = "x" * 1_048_576  # over it: refused as a whole (413)

# Text that is wrong as a number or an amount, whatever field it lands in.
MALFORMED_NUMBERS = ("1e999999999", "12,50", "1,25,0", "１２", "1_000", "٣", "²", "NaN", "12.5.0")
# Past BIGINT (2**31 may be a fair number of shares: it is sent where it may be accepted).
HUGE_NUMBERS = (str(2**63), "9" * 40, "-" + str(2**63))
ODD_NUMBERS = (str(2**31), str(2**63), "²")

# Bookkeeping that a refused request may still write: sign-in throttling, sessions, the audit
# of sign-ins. Matched against table names, so tables added later are covered too.
BOOKKEEPING = re.compile(r"session|login|sign_in|throttl|rate_limit|attempt")


def snapshot():
    """A digest of every table's rows (bookkeeping tables left out)."""
    digests = {}
    with _db.engine.connect() as conn:
        for table in _db.metadata.sorted_tables:
            if BOOKKEEPING.search(table.name):
                continue
            rows = sorted(repr(tuple(row)) for row in conn.execute(table.select()))
            digests[table.name] = hashlib.sha256("\n".join(rows).encode("utf-8", "backslashreplace")).hexdigest()
    return digests


def changed_tables(before, after):
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))


def shown(value, limit=40):
    """`value` short enough for a failure message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"


class Findings:
    """Every unacceptable answer of a sweep, reported together."""

    def __init__(self):
        self.items = []
        self.sent = 0

    def call(self, what, send):
        """`send()` a request; a raised exception is recorded as a 500. Returns the response or None."""
        self.sent += 1
        try:
            response = send()
        except Exception as error:  # noqa: BLE001 - any of them is a 500 in production
            self.items.append(f"{what}: 500 ({type(error).__name__}: {str(error).splitlines()[0][:160]})")
            return None
        if response.status_code >= 500:
            self.items.append(f"{what}: {response.status_code}")
        return response

    def add(self, message):
        self.items.append(message)

    def report(self):
        return "\n".join([f"{len(self.items)} unacceptable answers:"] + self.items[:200])
