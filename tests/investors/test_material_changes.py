"""Material changes (issue 24, item 3): a founder or admin marks one, every investor must reconfirm
within 5 business days or is cancelled and refunded; the offering never closes before that."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crowdfund import ledger
from crowdfund.models import MaterialChange, Pledge, Project, ShareHolding, utcnow
from crowdfund.services import offerings
from crowdfund.workflows.closing import close_and_settle
from tests.api.conftest import error_of
from tests.support.builders import live_equity_project, live_reward_project, refunds
from tests.support.mail_links import body_of, delivered, last_mail, link_in, path_of

RULEBOOK_CURRENCY = {"us_reg_cf": "USD", "eu_ecsp": "EUR", "cn": "CNY"}
COMMITMENT = {"shares": 100, "acknowledge_risks": True, "payment_method": "pm_card_visa"}  # 100 x 1.00


@pytest.fixture()
def under(rulebook):
    """A rulebook in force, without its entry checks and qualification proof (their own tests
    cover them): here the investor goes straight from profile to commitment."""

    def use(key):
        rulebook(
            key, INVESTOR_ENTRY_CHECKS=False, QUALIFIED_INVESTOR_FINANCIAL_ASSETS=0, QUALIFIED_INVESTOR_ANNUAL_INCOME=0
        )
        return RULEBOOK_CURRENCY[key]

    return use


def offering(make, db, currency="USD", *, goal=10_000, deadline_in=timedelta(days=30)):
    return live_equity_project(make, db, currency=currency, goal=goal, price_per_share=100, deadline_in=deadline_in)


def investor_token(api, make, currency, name):
    user = make.user(name=name)
    token = api.token_for(user)
    profile = {
        "currency": currency,
        "annual_income": 0,
        "net_worth": 0,
        "other_investments_12m": 0,
        "risk_acknowledged": True,
    }
    assert api.put("/me/investor-profile", profile, token=token).status_code == 200
    return user, token


def commit(api, project, token):
    placed = api.post(f"/projects/{project.id}/pledges", COMMITMENT, token=token)
    assert placed.status_code == 201, placed.get_json()
    return placed.get_json()


def mark(api, make, project, description="The firm has sold its factory; the money will pay for a new one."):
    response = api.post(
        f"/projects/{project.id}/material-change",
        {"description": description},
        token=api.token_for(make.founder_of(project)),
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def time_passes(db, pledge_id, until=None):
    """The reconfirmation period runs out (the stored time is moved, as a clock would)."""
    db.session.execute(
        update(Pledge).where(Pledge.id == pledge_id).values(reconfirm_by=until or utcnow() - timedelta(minutes=1))
    )
    db.session.commit()


def reload(db, model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.mark.parametrize("key", ["us_reg_cf", "eu_ecsp", "cn"])
def test_reconfirmed_stays_and_settles_the_silent_one_is_cancelled_and_refunded(api, make, db, app, under, key):
    currency = under(key)
    project = offering(make, db, currency, goal=10_000)
    ida, ida_token = investor_token(api, make, currency, "Ida")
    olu, olu_token = investor_token(api, make, currency, "Olu")
    kept, dropped = commit(api, project, ida_token), commit(api, project, olu_token)
    assert ledger.verify() == []

    change = mark(api, make, project)
    assert change["commitments"] == 2 and change["deadline_before"] is None
    expected_by = offerings.add_business_days(utcnow(), 5)
    for pledge, token in ((kept, ida_token), (dropped, olu_token)):
        shown = api.get(f"/pledges/{pledge['id']}", token=token).get_json()
        assert shown["reconfirm_by"] == change["reconfirm_by"]
        listed = api.get("/me/pledges", token=token).get_json()["items"]
        assert [p["reconfirm_by"] for p in listed] == [change["reconfirm_by"]]
    assert abs(reload(db, Pledge, kept["id"]).reconfirm_by - expected_by) < timedelta(minutes=1)

    # Each investor is mailed the change and a link; the link's page acts only on its POST.
    mail = last_mail(ida.email)
    assert "The firm has sold its factory" in body_of(mail)
    page = path_of(link_in(mail, "/reconfirm/"))
    shown = app.test_client().get(page)
    assert shown.status_code == 200 and "sold its factory" in shown.get_data(as_text=True)
    assert reload(db, Pledge, kept["id"]).reconfirm_by is not None  # a GET changes nothing
    anonymous = app.test_client()
    token = _csrf(anonymous.get(page).get_data(as_text=True))
    done = anonymous.post(page, data={"csrf_token": token})
    assert done.status_code == 200 and 'data-testid="reconfirmed"' in done.get_data(as_text=True)
    after = api.get(f"/pledges/{kept['id']}", token=ida_token).get_json()
    assert after["reconfirm_by"] is None and after["reconfirmed_at"] is not None
    again = api.post(f"/pledges/{kept['id']}/reconfirm", token=ida_token)
    assert again.status_code == 409 and error_of(again)["code"] == "nothing_to_reconfirm"

    # Olu does nothing: when the time runs out the sweep cancels and refunds, and says why.
    time_passes(db, dropped["id"])
    late = api.post(f"/pledges/{dropped['id']}/reconfirm", token=olu_token)
    assert late.status_code == 409 and error_of(late)["code"] == "reconfirmation_expired"
    refunds_before = refunds(db)
    result = app.test_cli_runner().invoke(args=["pledges", "expire-reconfirmations"])
    assert result.exit_code == 0 and "cancelled: 1" in result.output, result.output
    gone = api.get(f"/pledges/{dropped['id']}", token=olu_token).get_json()
    assert gone["status"] == "cancelled" and gone["reconfirm_by"] is None
    assert refunds(db) == refunds_before + 1 and reload(db, Pledge, dropped["id"]).refund_ref is not None
    assert "did not reconfirm your investment" in body_of(last_mail(olu.email))
    assert reload(db, Project, project.id).pledged_amount == 10_000
    assert ledger.verify() == []
    # Run again: nothing more happens.
    assert "cancelled: 0" in app.test_cli_runner().invoke(args=["pledges", "expire-reconfirmations"]).output
    assert refunds(db) == refunds_before + 1

    # Settled at the deadline: Ida's commitment is released and registered; the books balance.
    close_and_settle(now=reload(db, Project, project.id).deadline + timedelta(seconds=1))
    assert reload(db, Project, project.id).status == "successful"
    assert reload(db, Pledge, kept["id"]).status == "released"
    assert db.session.scalars(select(ShareHolding.user_id)).all() == [ida.id]
    assert ledger.verify() == []


def _csrf(page):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("key", ["us_reg_cf", "eu_ecsp", "cn"])
def test_a_deadline_before_the_reconfirmation_end_is_pushed_and_nothing_waiting_is_settled(api, make, db, under, key):
    currency = under(key)
    project = offering(make, db, currency, goal=10_000, deadline_in=timedelta(days=2))
    old_deadline = project.deadline
    _ida, ida_token = investor_token(api, make, currency, "Ida")
    olu, olu_token = investor_token(api, make, currency, "Olu")
    kept, dropped = commit(api, project, ida_token), commit(api, project, olu_token)

    change = mark(api, make, project)
    assert change["deadline_before"] is not None and change["deadline"] == change["reconfirm_by"]
    assert "now closes on" in body_of(last_mail(olu.email))
    # At the old deadline: nothing closes, nothing is released.
    assert close_and_settle(now=old_deadline + timedelta(seconds=1)).closed == 0
    assert reload(db, Project, project.id).status == "live"
    # Ida reconfirms; Olu does nothing.
    assert api.post(f"/pledges/{kept['id']}/reconfirm", token=ida_token).status_code == 200

    # At the end of the reconfirmation: Olu's commitment is cancelled and refunded first, then the
    # offering closes (Ida's 100.00 still reaches the 100.00 target) and Ida's is released.
    deadline = reload(db, Project, project.id).deadline
    run = close_and_settle(now=deadline + timedelta(seconds=1))
    assert run.closed == 1
    assert reload(db, Pledge, dropped["id"]).status == "cancelled"
    assert reload(db, Pledge, dropped["id"]).refund_ref is not None
    assert reload(db, Pledge, kept["id"]).status == "released"
    assert reload(db, Project, project.id).status == "successful"
    assert ledger.verify() == []


def test_closing_never_releases_a_commitment_still_waiting(api, make, db, under):
    """Whatever moved the deadline before the reconfirmation's end, closing holds the offering
    back and extends it, rather than settle a commitment that still waits."""
    currency = under("us_reg_cf")
    project = offering(make, db, currency, goal=10_000)
    _ida, ida_token = investor_token(api, make, currency, "Ida")
    pledge = commit(api, project, ida_token)
    change = mark(api, make, project)
    early = utcnow() + timedelta(hours=1)
    db.session.execute(update(Project).where(Project.id == project.id).values(deadline=early))
    db.session.commit()

    assert close_and_settle(now=early + timedelta(seconds=1)).closed == 0
    held_back = reload(db, Project, project.id)
    assert held_back.status == "live" and held_back.deadline.isoformat().startswith(change["reconfirm_by"][:16])
    assert reload(db, Pledge, pledge["id"]).status == "held"
    assert ledger.verify() == []


def test_an_early_close_cannot_cut_the_reconfirmation_short(api, make, db, rulebook):
    rulebook("us_reg_cf", EARLY_CLOSE_NOTICE_DAYS=1)
    project = offering(make, db, "USD", goal=10_000)
    project.launched_at = utcnow() - timedelta(days=22)
    db.session.commit()
    _ida, ida_token = investor_token(api, make, "USD", "Ida")
    commit(api, project, ida_token)
    change = mark(api, make, project)
    founder = api.token_for(make.founder_of(project))
    soon = offerings.add_business_days(utcnow(), 2).replace(microsecond=0)
    refused = api.post(
        f"/projects/{project.id}/close-early", {"deadline": soon.isoformat().replace("+00:00", "Z")}, token=founder
    )
    assert refused.status_code == 422, refused.get_json()
    assert error_of(refused)["code"] == "reconfirmation_pending" and "deadline" in error_of(refused)["fields"]
    assert change["reconfirm_by"][:16] in error_of(refused)["message"].replace(" ", "T")


def test_who_may_mark_a_change_and_what_it_needs(api, make, db):
    project = offering(make, db)
    blank = api.post(
        f"/projects/{project.id}/material-change", {"description": "  "}, token=api.token_for(make.founder_of(project))
    )
    assert blank.status_code == 422 and "description" in error_of(blank)["fields"]
    missing = api.post(f"/projects/{project.id}/material-change", {}, token=api.token_for(make.founder_of(project)))
    assert missing.status_code == 422 and "description" in error_of(missing)["fields"]
    stranger = api.post(
        f"/projects/{project.id}/material-change", {"description": "x"}, token=api.token_for(make.user())
    )
    assert stranger.status_code == 403
    admin = api.post(
        f"/projects/{project.id}/material-change", {"description": "New CEO."}, token=api.token_for(make.admin())
    )
    assert admin.status_code == 201, admin.get_json()
    reward = live_reward_project(make, db)
    refused = api.post(
        f"/projects/{reward.id}/material-change", {"description": "x"}, token=api.token_for(make.founder_of(reward))
    )
    assert refused.status_code == 409 and error_of(refused)["code"] == "not_an_offering"
    assert db.session.scalar(select(MaterialChange.description)) == "New CEO."


def test_only_the_investor_reconfirms(api, make, db, under):
    currency = under("us_reg_cf")
    project = offering(make, db, currency)
    _ida, ida_token = investor_token(api, make, currency, "Ida")
    pledge = commit(api, project, ida_token)
    nothing = api.post(f"/pledges/{pledge['id']}/reconfirm", token=ida_token)
    assert nothing.status_code == 409 and error_of(nothing)["code"] == "nothing_to_reconfirm"
    mark(api, make, project)
    assert api.post(f"/pledges/{pledge['id']}/reconfirm", token=api.token_for(make.user())).status_code == 404
    assert api.post(f"/pledges/{pledge['id']}/reconfirm", token=api.token_for(make.admin())).status_code == 403
    assert api.post(f"/pledges/{pledge['id']}/reconfirm", token=ida_token).status_code == 200


def test_a_refund_the_processor_did_not_confirm_is_left_for_reconcile(api, make, db, app, sandbox, under):
    from crowdfund import jobs
    from crowdfund.workflows import reconcile, reconfirmation

    currency = under("us_reg_cf")
    project = offering(make, db, currency)
    _ida, ida_token = investor_token(api, make, currency, "Ida")
    pledge = commit(api, project, ida_token)
    mark(api, make, project)
    time_passes(db, pledge["id"])
    sandbox.faults.configure(fail_next=1, kinds={"refund"})
    assert reconfirmation.expire_due() == {"cancelled": 1, "refund_pending": 1}
    assert reload(db, Pledge, pledge["id"]).status == "cancelled"
    assert ledger.verify() == []
    assert jobs.enqueue("expire_reconfirmations") == {"cancelled": 0, "refund_pending": 0}  # Celery beat's job
    assert reconcile.reconcile_pending(timedelta(0))["refunds_confirmed"] == 1
    assert reload(db, Pledge, pledge["id"]).refund_ref is not None


# -- the pages ------------------------------------------------------------------------------------


def test_founder_and_admin_mark_a_change_on_their_pages(client, login, make, db, app):
    from tests.conftest import csrf_token

    project = offering(make, db)
    founder = login(make.founder_of(project))
    dashboard = client.get(f"/projects/{project.id}/dashboard").get_data(as_text=True)
    assert f"/projects/{project.id}/material-change" in dashboard
    form = f"/projects/{project.id}/material-change"
    empty = client.post(form, data={"description": "", "csrf_token": csrf_token(client, form)})
    assert empty.status_code == 422 and "Describe what changed" in empty.get_data(as_text=True)
    done = client.post(
        form, data={"description": "The price per share halves.", "csrf_token": csrf_token(client, form)}
    )
    assert done.status_code == 302
    assert "The price per share halves." in client.get(form).get_data(as_text=True)  # listed as an earlier change
    assert "以往的重大变更" in client.get(form, headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert founder

    admin_client = app.test_client()
    admin = make.admin()
    from tests.support.factories import PASSWORD, pass_second_step

    response = admin_client.post(
        "/account/login",
        data={"email": admin.email, "password": PASSWORD, "csrf_token": csrf_token(admin_client, "/account/login")},
    )
    if response.headers["Location"].endswith("/account/2fa/verify"):
        pass_second_step(admin_client, admin)
    assert f"/admin/campaigns/{project.id}/material-change" in admin_client.get("/admin/campaigns").get_data(
        as_text=True
    )
    page = f"/admin/campaigns/{project.id}/material-change"
    marked = admin_client.post(
        page, data={"description": "Audit found errors.", "csrf_token": csrf_token(admin_client, page)}
    )
    assert marked.status_code == 302
    assert db.session.scalar(select(MaterialChange.id).where(MaterialChange.description == "Audit found errors."))


def test_the_receipt_and_my_pledges_show_the_wait_and_the_button(client, login, api, make, db, under):
    from tests.conftest import csrf_token

    currency = under("us_reg_cf")
    project = offering(make, db, currency)
    ida, ida_token = investor_token(api, make, currency, "Ida")
    pledge = commit(api, project, ida_token)
    mark(api, make, project, description="A new board.")
    login(ida)
    receipt = client.get(f"/pledges/{pledge['id']}").get_data(as_text=True)
    assert 'data-testid="reconfirm-by"' in receipt and "A new board." in receipt
    assert f"/pledges/{pledge['id']}/reconfirm" in receipt
    assert 'data-testid="reconfirm-by"' in client.get("/me/pledges").get_data(as_text=True)
    chinese = client.get(f"/pledges/{pledge['id']}", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "重新确认我的投资" in chinese and "A new board." in chinese
    done = client.post(
        f"/pledges/{pledge['id']}/reconfirm",
        data={"csrf_token": csrf_token(client, f"/pledges/{pledge['id']}"), "next": f"/pledges/{pledge['id']}"},
    )
    assert done.status_code == 302
    after = client.get(f"/pledges/{pledge['id']}").get_data(as_text=True)
    assert "thank you for reconfirming" in after and 'data-testid="reconfirm-by"' not in after


def test_a_forged_or_foreign_link_is_refused(api, make, db, app, under):
    currency = under("us_reg_cf")
    project = offering(make, db, currency)
    ida, ida_token = investor_token(api, make, currency, "Ida")
    _olu, olu_token = investor_token(api, make, currency, "Olu")
    first, second = commit(api, project, ida_token), commit(api, project, olu_token)
    mark(api, make, project)
    link = path_of(link_in(last_mail(ida.email), "/reconfirm/"))
    assert app.test_client().get(link.replace("/reconfirm/", "/reconfirm/x")).status_code == 400
    foreign = link.replace(f"/pledges/{first['id']}/", f"/pledges/{second['id']}/")
    assert app.test_client().get(foreign).status_code == 400
    assert len(delivered(ida.email)) >= 1


def test_the_mail_speaks_the_investors_language(api, make, db, under):
    currency = under("cn")
    project = offering(make, db, currency)
    ida, ida_token = investor_token(api, make, currency, "Ida")
    ida.locale = "zh"
    db.session.commit()
    commit(api, project, ida_token)
    mark(api, make, project, description="公司更换了董事会。")
    mail = last_mail(ida.email)
    assert "请重新确认你的投资" in mail["Subject"]
    assert "公司更换了董事会。" in body_of(mail) and "/reconfirm/" in body_of(mail)


def test_an_investor_may_decline_while_waiting_even_inside_the_cut_off(api, make, db, under):
    currency = under("us_reg_cf")
    project = offering(make, db, currency)
    _ida, ida_token = investor_token(api, make, currency, "Ida")
    pledge = commit(api, project, ida_token)
    mark(api, make, project)
    soon = utcnow() + timedelta(hours=1)  # both an hour away: well inside the 48-hour cut-off
    db.session.execute(update(Project).where(Project.id == project.id).values(deadline=soon))
    time_passes(db, pledge["id"], until=soon)
    assert api.get(f"/pledges/{pledge['id']}", token=ida_token).get_json()["cancel_until"] == soon.isoformat(
        timespec="seconds"
    ).replace("+00:00", "Z")
    declined = api.post(f"/pledges/{pledge['id']}/cancel", token=ida_token)
    assert declined.status_code == 200 and declined.get_json()["status"] == "cancelled"
    assert ledger.verify() == []
