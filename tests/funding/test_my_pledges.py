"""My pledges: a confirmation step before a cancel, failed attempts apart, totals; holdings
with the campaign, totals and the stake."""

import re

import pytest

from crowdfund import ledger
from crowdfund.errors import PaymentDeclined
from crowdfund.models import Pledge
from crowdfund.workflows import checkout
from tests.support.settlement import close, equity_campaign


def _place(make, project, backer, key, method="pm_card_visa"):
    return checkout.place_pledge(
        backer,
        project,
        idempotency_key=f"mine-{project.id}-{key}",
        payment_method=method,
        tier_id=project.tiers[0].id,
        quantity=1,
    )


def test_failed_attempts_stand_apart_and_totals_count_only_pledges(make, db, client, login):
    usd = make.live_project(goal="500")
    cny = make.live_project(goal="500", currency="CNY")
    backer = make.user()
    held = _place(make, usd, backer, "a")
    _place(make, cny, backer, "b")
    with pytest.raises(PaymentDeclined):
        _place(make, usd, backer, "c", method="pm_card_chargeDeclined")
    assert held.status == "held"
    login(backer)
    page = client.get("/me/pledges").get_data(as_text=True)
    totals = page.split('data-testid="pledge-totals"')[1].split("</dl>")[0]
    assert "$25.00" in totals and "CN¥25.00" in totals
    table = page.split("<table")[1].split("</table>")[0]
    assert "Failed" not in table  # the declined attempt is not listed as a pledge
    assert f'href="/p/{usd.slug}"' in table
    attempts = page.split('data-testid="failed-attempts"')[1].split("</details>")[0]
    assert "1 payment attempt that did not go through" in attempts and "declined" in attempts
    assert "$25.00" not in attempts  # no amount presented as pledged


def test_cancel_needs_a_confirmation_step(make, db, client, login):
    project = make.live_project(goal="500")
    backer = make.user()
    pledge = _place(make, project, backer, "x")
    login(backer)
    listing = client.get("/me/pledges").get_data(as_text=True)
    assert f'action="/pledges/{pledge.id}/cancel"' not in listing  # no one-click form
    link = re.search(r'href="(/pledges/%d/cancel[^"]*)"' % pledge.id, listing).group(1).replace("&amp;", "&")
    confirm = client.get(link)
    assert confirm.status_code == 200
    body = confirm.get_data(as_text=True)
    assert "Cancel this pledge?" in body and "$25.00" in body and "No, keep it" in body
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).status == "held"  # looking is not cancelling
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
    done = client.post(f"/pledges/{pledge.id}/cancel", data={"csrf_token": token, "next": "/me/pledges"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/me/pledges")
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).status == "cancelled"
    assert ledger.verify() == []
    # Someone else's pledge has no confirmation page.
    client.post("/account/logout", data={"csrf_token": token})
    login(make.user())
    assert client.get(f"/pledges/{pledge.id}/cancel").status_code == 404


def test_holdings_show_the_campaign_totals_and_stake(make, db, client, login):
    project, held = equity_campaign(make, db, goal="100", investors=2, shares=12)
    close(db, project)
    login(held[0].backer)
    page = client.get("/me/holdings").get_data(as_text=True)
    assert f'href="/p/{project.slug}"' in page and project.title in page
    assert "$120.00" in page  # 12 shares at 10.00
    # The builder's offering: shares outstanding before it, plus the 24 it sold.
    offering = project.equity
    total = offering.shares_outstanding + offering.shares_committed
    stake = page.split('data-testid="stake">')[1].split("<")[0]
    assert stake.endswith("%") and stake != "—"
    assert abs(float(stake.rstrip("%")) - 12 * 100 / total) < 0.01
    assert 'data-testid="holdings-totals"' in page
