"""Cancel and refund commitments not reconfirmed in time after a material change
(workflows/reconfirmation.py). Every closing run does it first too (workflows/closing.py)."""

from . import job


@job("expire_reconfirmations")
def expire_reconfirmations():
    from .. import after_commit
    from ..workflows import reconfirmation

    summary = reconfirmation.expire_due()
    after_commit.run()  # the investors' mail
    return summary
