"""What a pledge change announces: the backer's own mail about the change, and, when it raises
the campaign's total, the stretch goals and the goal it reaches (once, as a new pledge would)."""

from sqlalchemy import select

from crowdfund.jobs.mail import build_email
from crowdfund.models import OutboxMessage
from crowdfund.workflows import reminder_runs
from tests.backing.conftest import address, books_agree


def mails(db, like):
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like(like)).order_by(OutboxMessage.id)
    ).all()


def place(api, project, token, **body):
    response = api.post(f"/projects/{project.id}/pledges", {"payment_method": "pm_card_visa", **body}, token=token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def change(api, pledge, token, **body):
    response = api.patch(f"/pledges/{pledge['id']}", body, token=token)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_larger_pledge_reaches_the_goal_and_a_stretch_goal_once_and_a_smaller_one_unreaches_nothing(api, make, db):
    project = make.live_project(goal="60")  # its tier: 25.00
    tier = project.tiers[0]
    founder = api.token_for(make.founder_of(project))
    stretch = api.post(
        f"/projects/{project.id}/stretch-goals", {"amount": 10000, "title": "Gift box"}, token=founder
    ).get_json()
    ann, ben = make.user(name="Ann"), make.user(name="Ben")
    ann_token, ben_token = api.token_for(ann), api.token_for(ben)
    place(api, project, ben_token, tier_id=tier.id)
    pledge = place(api, project, ann_token, tier_id=tier.id)  # 50.00: below the goal of 60.00
    reminder_runs.announce_goals()  # (the request's commit starts it too)
    assert mails(db, "goal_reached:%") == []

    change(api, pledge, ann_token, quantity=2)  # 75.00: the change crosses the goal
    reminder_runs.announce_goals()
    reached = mails(db, "goal_reached:%")
    assert sorted(m.to_address for m in reached) == sorted([ann.email, ben.email])
    assert "has reached its funding goal" in reached[0].subject
    assert mails(db, f"stretch_goal:{stretch['id']}:%") == []

    change(api, pledge, ann_token, quantity=3)  # 100.00: the stretch goal
    unlocked = mails(db, f"stretch_goal:{stretch['id']}:%")
    assert sorted(m.to_address for m in unlocked) == sorted([ann.email, ben.email])
    assert "unlocked a stretch goal: Gift box" in unlocked[0].subject
    assert api.get(f"/projects/{project.id}").get_json()["stretch_goals"][0]["reached"] is True

    change(api, pledge, ann_token, quantity=1)  # back to 50.00: below both, nothing is taken back
    assert books_agree(project.id) == 5000
    shown = api.get(f"/projects/{project.id}").get_json()["stretch_goals"][0]
    assert shown["reached"] is True and shown["reached_at"]

    change(api, pledge, ann_token, quantity=3)  # across both again: nobody is mailed twice
    assert reminder_runs.announce_goals() == 0
    assert len(mails(db, "goal_reached:%")) == 2
    assert len(mails(db, f"stretch_goal:{stretch['id']}:%")) == 2
    assert books_agree(project.id) == 10000


def test_the_backer_is_mailed_what_changed_and_what_was_charged_or_refunded(api, make, db, app):
    project = make.live_project(goal="500")
    tier = project.tiers[0]  # 25.00
    deluxe = make.tier(project, title="Deluxe", price="60", quantity="5", shipping="worldwide", shipping_fee="5")
    mug = api.post(
        f"/projects/{project.id}/add-ons",
        {"title": "Mug", "price": 800, "quantity": 5},
        token=api.token_for(make.founder_of(project)),
    ).get_json()
    backer = make.user(name="Bo")
    token = api.token_for(backer)
    pledge = place(api, project, token, tier_id=tier.id, quantity=2)

    change(api, pledge, token, quantity=1)  # smaller: the difference goes back
    down = mails(db, f"pledge_changed:{pledge['id']}:%")
    assert len(down) == 1 and down[0].to_address == backer.email
    assert down[0].subject == f"Your pledge to {project.title} was changed"
    assert "Quantity: 2 -> 1" in down[0].body_text
    assert "Amount: $50.00 -> $25.00" in down[0].body_text and "Refunded: $25.00" in down[0].body_text
    # Transactional: it always goes, and carries the link to the mail choices (and the header).
    assert "/mail/unsubscribe/all/" in down[0].list_unsubscribe
    assert "To choose which other emails you get" in down[0].body_text
    assert build_email(down[0], app.config)["List-Unsubscribe"]

    # Larger: another reward, an add-on and an address.
    change(
        api,
        pledge,
        token,
        tier_id=deluxe.id,
        add_ons=[{"id": mug["id"], "quantity": 2}],
        shipping_address=address("FR", city="Lyon"),
    )
    up = mails(db, f"pledge_changed:{pledge['id']}:%")[-1].body_text
    assert "Reward: Early bird -> Deluxe" in up
    assert "Add-ons: none -> Mug x 2" in up
    assert "Shipping address: Bo Backer, 1 Some Street, AB1 2CD Lyon, France" in up
    total = 6000 + 1600 + 500
    assert f"Amount: $25.00 -> ${total / 100:.2f}" in up
    assert f"Charged: ${(total - 2500) / 100:.2f} more" in up and "$25.00 is refunded in full" in up
    assert books_agree(project.id) == total

    # Refused (no room for 6 of a tier of 5): the pledge stays, and no mail says it changed.
    refused = api.patch(f"/pledges/{pledge['id']}", {"quantity": 6}, token=token)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "sold_out"
    assert len(mails(db, f"pledge_changed:{pledge['id']}:%")) == 2


def test_the_change_mail_is_in_the_backers_language(api, make, db):
    project = make.live_project(goal="500")
    backer = make.user(name="Li")
    backer.locale = "zh"
    db.session.commit()
    token = api.token_for(backer)
    pledge = place(api, project, token, tier_id=project.tiers[0].id)
    change(api, pledge, token, quantity=3)
    message = mails(db, f"pledge_changed:{pledge['id']}:%")[0]
    assert message.subject == f"您对 {project.title} 的支持已更改"
    assert "数量： 1 -> 3" in message.body_text and "已多收取" in message.body_text
