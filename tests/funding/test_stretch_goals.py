"""Stretch goals: founders add amounts above the goal; reaching one mails the backers once."""

from sqlalchemy import select

from crowdfund.models import OutboxMessage
from crowdfund.workflows import checkout
from tests.api.conftest import error_of


def _pledge(make, project, key, quantity=1):
    return checkout.place_pledge(
        make.user(name=f"Backer {key}"),
        project,
        idempotency_key=f"stretch-{project.id}-{key}",
        payment_method="pm_card_visa",
        tier_id=project.tiers[0].id,
        quantity=quantity,
    )


def _stretch_mail(db, goal_id):
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"stretch_goal:{goal_id}:%"))
    ).all()


def test_founder_adds_stretch_goals_through_the_api_and_backers_are_mailed_once(make, db, api):
    project = make.live_project(goal="50")  # tier: 25.00
    token = api.token_for(make.founder_of(project))
    low = api.post(f"/projects/{project.id}/stretch-goals", {"amount": 4000, "title": "Too low"}, token=token)
    assert low.status_code == 422 and "amount" in error_of(low)["fields"]
    made = api.post(
        f"/projects/{project.id}/stretch-goals",
        {"amount": 10000, "title": "Gift box", "description": "Every reward ships in a gift box."},
        token=token,
    )
    assert made.status_code == 201, made.get_json()
    goal = made.get_json()
    assert goal["reached"] is False and goal["amount"] == 10000
    listed = api.get(f"/projects/{project.id}").get_json()["stretch_goals"]
    assert [g["title"] for g in listed] == ["Gift box"]
    stranger = api.token_for(make.user())
    assert (
        api.post(f"/projects/{project.id}/stretch-goals", {"amount": 20000, "title": "x"}, token=stranger).status_code
        == 403
    )

    for key in range(3):  # 75.00: above the goal, below the stretch goal
        assert _pledge(make, project, key).status == "held"
    assert _stretch_mail(db, goal["id"]) == []
    _pledge(make, project, 3)  # 100.00: reached
    mails = _stretch_mail(db, goal["id"])
    assert len(mails) == 4
    assert "unlocked a stretch goal: Gift box" in mails[0].subject and "gift box" in mails[0].body_text
    _pledge(make, project, 4)  # further pledges do not mail again
    assert len(_stretch_mail(db, goal["id"])) == 4
    after = api.get(f"/projects/{project.id}").get_json()["stretch_goals"][0]
    assert after["reached"] is True and after["reached_at"]
    # A reached stretch goal stays.
    gone = api.delete(f"/projects/{project.id}/stretch-goals/{goal['id']}", token=token)
    assert gone.status_code == 422


def test_stretch_goals_are_for_reward_campaigns(make, db, api):
    project = make.equity_project()
    token = api.token_for(make.founder_of(project))
    refused = api.post(f"/projects/{project.id}/stretch-goals", {"amount": 10_000_000, "title": "More"}, token=token)
    assert refused.status_code == 422


def test_the_campaign_page_shows_them_with_the_reached_ones_marked(make, db, client, login, api):
    project = make.live_project(goal="50")
    token = api.token_for(make.founder_of(project))
    api.post(f"/projects/{project.id}/stretch-goals", {"amount": 7000, "title": "Engraving"}, token=token)
    api.post(f"/projects/{project.id}/stretch-goals", {"amount": 90000, "title": "Second colour"}, token=token)
    for key in range(3):
        _pledge(make, project, key)
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Stretch goals" in page and "Engraving" in page and "Second colour" in page
    assert page.count("stretch-goal is-reached") == 1


def test_the_editor_adds_and_removes_a_stretch_goal(make, db, client, login):
    project = make.project()
    login(make.founder_of(project))
    form = client.get(f"/projects/{project.id}/stretch-goals/new")
    assert form.status_code == 200
    token = form.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    too_low = client.post(
        f"/projects/{project.id}/stretch-goals/new", data={"csrf_token": token, "amount": "10", "title": "Stickers"}
    )
    assert too_low.status_code == 422 and "above the campaign" in too_low.get_data(as_text=True)
    added = client.post(
        f"/projects/{project.id}/stretch-goals/new", data={"csrf_token": token, "amount": "9000", "title": "Stickers"}
    )
    assert added.status_code == 302
    editor = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert "Stickers" in editor
    goal_id = project.stretch_goals[0].id
    removed = client.post(f"/projects/{project.id}/stretch-goals/{goal_id}/delete", data={"csrf_token": token})
    assert removed.status_code == 302
    db.session.expire_all()
    assert project.stretch_goals == []


def test_a_pledge_asks_about_stretch_goals_only_when_one_is_in_reach(make, db, api):
    """The lowest goal not reached comes back with the campaign's new total, so a pledge
    with none in reach spends no statement on them; one that reaches a goal still stamps it."""
    from tests.support.statements import statements

    project = make.live_project(goal="50")  # tier: 25.00
    token = api.token_for(make.founder_of(project))
    for amount, title in ((10000, "Gift box"), (20000, "Second colour")):
        made = api.post(f"/projects/{project.id}/stretch-goals", {"amount": amount, "title": title}, token=token)
        assert made.status_code == 201, made.get_json()

    def stamps(key):
        with statements(db) as seen:
            assert _pledge(make, project, key).status == "held"
        return [s for s in seen if s.startswith("update stretch_goals")]

    assert [stamps(key) for key in range(3)] == [[], [], []]  # 25, 50, 75: none in reach
    assert len(stamps(3)) == 1  # 100.00: the gift box
    assert stamps(4) == []  # 125.00: the next one is out of reach
    reached = {g["title"]: g["reached"] for g in api.get(f"/projects/{project.id}").get_json()["stretch_goals"]}
    assert reached == {"Gift box": True, "Second colour": False}
