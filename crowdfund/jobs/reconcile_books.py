"""Every day: our ledger against the payment processor's books; admins are mailed on a difference."""

import logging
from datetime import timezone

from .. import after_commit
from ..database import read_snapshot
from ..domain.clock import utcnow
from ..extensions import db
from ..models import User
from ..payments import get_gateway
from . import job

log = logging.getLogger(__name__)


def compare_with_processor(*, since=None, until=None):
    """(differences, how many processor records were compared). The processor is asked
    first, outside any transaction; our books are then read in one snapshot."""
    since, until = _utc(since), _utc(until)
    records = get_gateway().activity(since=since, until=until)
    from ..services.reconciliation import differences

    with read_snapshot(db.session):
        return differences(records, since=since, until=until), len(records)


@job("reconcile_books")
def reconcile_books():
    from ..services import notifications

    problems, records = compare_with_processor()
    if problems:
        log.error("The ledger differs from the processor's books in %d place(s)", len(problems))
        admins = db.session.query(User).filter(User.is_admin.is_(True)).all()
        notifications.books_differ(admins, problems, day=utcnow().date())
        db.session.commit()
        after_commit.run()
    return {"records": records, "differences": len(problems)}


def _utc(moment):
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment
