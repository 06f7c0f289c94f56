"""A change whose processor call was lost (the answer never came, or the refund after it)
is finished by `flask pledges reconcile`, under the same keys: never charged or refunded twice."""

from datetime import timedelta

from sqlalchemy import func, select

from crowdfund.domain.clock import utcnow
from crowdfund.models import PledgeChange, SandboxOperation
from crowdfund.payments import get_gateway
from crowdfund.workflows import reconcile
from tests.api.conftest import error_of
from tests.backing.conftest import books_agree


def operations(db, kind):
    return db.session.scalar(select(func.count()).select_from(SandboxOperation).where(SandboxOperation.kind == kind))


def test_a_lost_answer_to_the_new_charge_is_finished_by_reconcile(api, make, live, db):
    better = make.tier(live, title="Deluxe", price="90")
    token = api.token_for(make.user())
    pledge = api.post(
        f"/projects/{live.id}/pledges", {"tier_id": live.tiers[0].id, "payment_method": "pm_card_visa"}, token=token
    ).get_json()
    # The processor takes the payment but its answer is lost.
    get_gateway().faults.configure(fail_next=1, kinds={"charge"}, after_commit=True)
    response = api.patch(f"/pledges/{pledge['id']}", {"tier_id": better.id}, token=token)
    get_gateway().faults.reset()
    assert response.status_code == 409 and error_of(response)["code"] == "change_pending"
    assert api.get(f"/pledges/{pledge['id']}", token=token).get_json()["amount"] == pledge["amount"]
    books_agree(live.id)

    reconcile.reconcile_pending(timedelta(0), now=utcnow() + timedelta(minutes=5))
    after = api.get(f"/pledges/{pledge['id']}", token=token).get_json()
    assert (after["tier_id"], after["amount"]) == (better.id, 9000)
    assert operations(db, "charge") == 2  # the first pledge's and the change's: the same key, once
    assert operations(db, "refund") == 1  # the earlier charge, in full
    assert db.session.scalar(select(PledgeChange.status)) == "done"
    assert books_agree(live.id) == 9000


def test_a_refund_the_processor_did_not_confirm_is_sent_again(api, make, live, db):
    tier = live.tiers[0]
    token = api.token_for(make.user())
    pledge = api.post(
        f"/projects/{live.id}/pledges",
        {"tier_id": tier.id, "quantity": 2, "payment_method": "pm_card_visa"},
        token=token,
    ).get_json()
    get_gateway().faults.configure(fail_next=1, kinds={"refund"})
    response = api.patch(f"/pledges/{pledge['id']}", {"quantity": 1}, token=token)
    get_gateway().faults.reset()
    assert response.status_code == 200 and response.get_json()["amount"] == tier.price  # the books first
    assert operations(db, "refund") == 0
    reconcile.reconcile_pending(timedelta(0), now=utcnow() + timedelta(minutes=5))
    assert operations(db, "refund") == 1
    assert db.session.scalar(select(PledgeChange.status)) == "done"
    assert books_agree(live.id) == tier.price
