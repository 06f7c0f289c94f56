"""verify() catches each kind of broken ledger. Each test corrupts it on purpose, as a
bug or a hand-edited row would: rows are written straight into the tables, past the
ledger module."""

import secrets

import pytest
from sqlalchemy import insert, update

from crowdfund import ledger
from crowdfund.errors import PaymentDeclined
from crowdfund.models import LedgerTransfer, Pledge, Project, utcnow
from crowdfund.services.transitions import transition
from crowdfund.workflows import cancel, checkout
from tests.support.builders import live_reward_project


@pytest.fixture()
def project(make, db):
    return live_reward_project(make, db, currency="CNY")


def held_pledge(make, project, amount=10_000):
    return checkout.place_pledge(
        make.user(), project, amount=amount, idempotency_key=secrets.token_urlsafe(16), payment_method="pm_card_visa"
    )


def raw_transfer(db, id, debit_key, credit_key, amount, code, *, currency="CNY", pledge_id=None):
    """A transfer written straight into the table, past every check of the ledger module."""
    debit, credit = ledger.get_account(debit_key), ledger.get_account(credit_key)
    db.session.execute(
        insert(LedgerTransfer).values(
            id=id,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount=amount,
            currency=currency,
            code=code,
            pledge_id=pledge_id,
            created_at=utcnow(),
        )
    )
    db.session.commit()


def problems_about(words):
    found = [p for p in ledger.verify() if words in p]
    assert found, f"no problem mentions {words!r}: {ledger.verify()}"
    return found


def test_a_sound_ledger_has_no_problems(make, db, project):
    held_pledge(make, project)
    cancelled = held_pledge(make, project, 3_000)
    cancel.cancel_pledge(cancelled.backer, cancelled.id)
    with pytest.raises(PaymentDeclined):
        checkout.place_pledge(
            make.user(),
            project,
            amount=500,
            idempotency_key=secrets.token_urlsafe(16),
            payment_method="pm_card_chargeDeclined",
        )
    assert ledger.verify() == []


def test_a_successful_settlement_passes(make, db, project):
    """The release rule as a settlement would write it: net to the firm, fee to the platform."""
    pledge = held_pledge(make, project, 10_000)
    transition(db.session.get(Project, project.id), "successful")
    ledger.transfer_many(
        [
            ledger.Transfer(
                ledger.release_net_id(pledge.id),
                ledger.escrow_key(project),
                ledger.firm_payable_key(project.firm_id, "CNY"),
                9_500,
                "CNY",
                ledger.RELEASE_NET,
                pledge_id=pledge.id,
            ),
            ledger.Transfer(
                ledger.release_fee_id(pledge.id),
                ledger.escrow_key(project),
                ledger.platform_fees_key("CNY"),
                500,
                "CNY",
                ledger.RELEASE_FEE,
                pledge_id=pledge.id,
            ),
        ]
    )
    transition(db.session.get(Pledge, pledge.id), "released")
    db.session.commit()
    assert ledger.verify() == []


def test_debits_and_credits_of_a_currency_differ(make, db, project):
    raw_transfer(db, "fx-1", ledger.clearing_key("USD"), ledger.escrow_key(project), 700, "adjustment")
    problems_about("CNY: total debits 0 differ from total credits 700")
    problems_about("USD: total debits 700 differ from total credits 0")
    problems_about("Transfer fx-1 is in CNY but moves money from gateway_clearing:USD (USD)")


def test_an_escrow_account_goes_negative(make, db, project):
    raw_transfer(db, "leak-1", ledger.escrow_key(project), ledger.clearing_key("CNY"), 500, "adjustment")
    problems_about(f"Escrow account escrow:project:{project.id} is negative: -500 CNY")


def test_escrow_holds_more_than_its_held_pledges(make, db, project):
    held_pledge(make, project, 10_000)
    raw_transfer(db, "extra-1", ledger.clearing_key("CNY"), ledger.escrow_key(project), 250, "adjustment")
    problems_about(
        f"Project {project.id}: escrow escrow:project:{project.id} holds 10250 but its held pledges add up to 10000"
    )


def test_the_projects_running_totals_drift(make, db, project):
    held_pledge(make, project, 10_000)
    db.session.execute(update(Project).where(Project.id == project.id).values(pledged_amount=12_000, backer_count=3))
    db.session.commit()
    problems_about(f"Project {project.id}: pledged_amount is 12000 but its held pledges add up to 10000")
    problems_about(f"Project {project.id}: backer_count is 3 but 1 backers have held pledges")


def test_a_held_pledge_with_no_hold(make, db, project):
    pledge = held_pledge(make, project, 10_000)
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(amount=10_001))
    db.session.commit()
    problems_about(f"Pledge {pledge.id} (held, 10001): its hold moved 10000 into escrow, not 10001")
    ghost = Pledge(
        project_id=project.id,
        backer_id=pledge.backer_id,
        status="held",
        idempotency_key="ghost-key",
        amount=700,
        currency="CNY",
        payment_method="pm_card_visa",
    )
    db.session.add(ghost)
    db.session.commit()
    problems_about(f"Pledge {ghost.id} (held, 700) has 0 hold transfers (expected exactly 1)")


def test_a_pledge_held_twice(make, db, project):
    pledge = held_pledge(make, project, 10_000)
    raw_transfer(
        db,
        f"pledge:{pledge.id}:hold-again",
        ledger.clearing_key("CNY"),
        ledger.escrow_key(project),
        10_000,
        "pledge_hold",
        pledge_id=pledge.id,
    )
    problems_about(f"Pledge {pledge.id} (held, 10000) has 2 hold transfers (expected exactly 1)")


def test_a_hold_under_another_id(make, db, project):
    ghost = Pledge(
        project_id=project.id,
        backer_id=make.user().id,
        status="pending",
        idempotency_key="k" * 10,
        amount=700,
        currency="CNY",
        payment_method="pm_card_visa",
    )
    db.session.add(ghost)
    db.session.commit()
    raw_transfer(
        db,
        "hold-for-ghost",
        ledger.clearing_key("CNY"),
        ledger.escrow_key(project),
        700,
        "pledge_hold",
        pledge_id=ghost.id,
    )
    problems_about(f"Pledge {ghost.id} (pending, 700) has ledger transfers, but a pending pledge never touches escrow")
    transition(ghost, "held")
    db.session.commit()
    problems_about(f"its hold has id hold-for-ghost, expected pledge:{ghost.id}:hold")


def test_a_failed_pledge_with_money_in_escrow(make, db, project):
    with pytest.raises(PaymentDeclined):
        checkout.place_pledge(
            make.user(),
            project,
            amount=500,
            idempotency_key=secrets.token_urlsafe(16),
            payment_method="pm_card_chargeDeclined",
        )
    pledge = db.session.query(Pledge).one()
    raw_transfer(
        db,
        f"pledge:{pledge.id}:hold",
        ledger.clearing_key("CNY"),
        ledger.escrow_key(project),
        500,
        "pledge_hold",
        pledge_id=pledge.id,
    )
    problems_about(f"Pledge {pledge.id} (failed, 500) has ledger transfers, but a failed pledge never touches escrow")


def test_a_held_pledge_with_money_already_out(make, db, project):
    pledge = held_pledge(make, project, 10_000)
    raw_transfer(
        db,
        f"pledge:{pledge.id}:refund",
        ledger.escrow_key(project),
        ledger.clearing_key("CNY"),
        10_000,
        "pledge_refund",
        pledge_id=pledge.id,
    )
    problems_about(f"Pledge {pledge.id} (held, 10000) is held, but money has already left escrow for it")


def test_a_cancelled_pledge_that_was_never_refunded(make, db, project):
    pledge = held_pledge(make, project, 10_000)
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(status="cancelled"))
    db.session.commit()
    problems_about(f"Pledge {pledge.id} (cancelled, 10000) has 0 refund transfers (expected exactly 1)")


def test_a_refund_of_the_wrong_amount(make, db, project):
    pledge = held_pledge(make, project, 10_000)
    raw_transfer(
        db,
        f"pledge:{pledge.id}:refund",
        ledger.escrow_key(project),
        ledger.clearing_key("CNY"),
        9_000,
        "pledge_refund",
        pledge_id=pledge.id,
    )
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(status="refunded"))
    db.session.commit()
    problems_about(f"Pledge {pledge.id} (refunded, 10000): its refund returned 9000, not 10000")


def test_a_release_that_does_not_add_up(make, db, project):
    pledge = held_pledge(make, project, 10_000)
    raw_transfer(
        db,
        f"pledge:{pledge.id}:net",
        ledger.escrow_key(project),
        ledger.firm_payable_key(project.firm_id, "CNY"),
        9_000,
        "release_net",
        pledge_id=pledge.id,
    )
    raw_transfer(
        db,
        f"pledge:{pledge.id}:fee",
        ledger.escrow_key(project),
        ledger.platform_fees_key("CNY"),
        500,
        "release_fee",
        pledge_id=pledge.id,
    )
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(status="released"))
    db.session.commit()
    problems_about(f"Pledge {pledge.id} (released, 10000) is released but net 9000 + fee 500 do not add up")


def test_money_released_and_refunded(make, db, project):
    pledge = held_pledge(make, project, 10_000)
    raw_transfer(
        db,
        f"pledge:{pledge.id}:refund",
        ledger.escrow_key(project),
        ledger.clearing_key("CNY"),
        10_000,
        "pledge_refund",
        pledge_id=pledge.id,
    )
    raw_transfer(
        db,
        f"pledge:{pledge.id}:net",
        ledger.clearing_key("CNY"),
        ledger.firm_payable_key(project.firm_id, "CNY"),
        10_000,
        "release_net",
        pledge_id=pledge.id,
    )
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(status="cancelled"))
    db.session.commit()
    problems_about(f"Pledge {pledge.id} (cancelled, 10000) was returned to the backer and also released")
    problems_about(
        f"Transfer pledge:{pledge.id}:net (release_net) of pledge {pledge.id} runs from "
        f"gateway_clearing:CNY to firm_payable:firm:{project.firm_id}:CNY"
    )


def test_a_hold_into_another_projects_escrow(make, db, project):
    other = live_reward_project(make, db)
    ghost = Pledge(
        project_id=project.id,
        backer_id=make.user().id,
        status="held",
        idempotency_key="k" * 10,
        amount=700,
        currency="CNY",
        payment_method="pm_card_visa",
    )
    db.session.add(ghost)
    db.session.commit()
    raw_transfer(
        db,
        f"pledge:{ghost.id}:hold",
        ledger.clearing_key("CNY"),
        ledger.escrow_key(other),
        700,
        "pledge_hold",
        pledge_id=ghost.id,
    )
    problems_about(
        f"runs from gateway_clearing:CNY to escrow:project:{other.id}, which is not where a pledge_hold goes"
    )


def test_a_pledge_transfer_that_names_no_pledge(make, db, project):
    raw_transfer(db, "orphan", ledger.clearing_key("CNY"), ledger.escrow_key(project), 100, "pledge_hold")
    problems_about("Transfer orphan is a pledge_hold but names no pledge")


def test_the_cli(app, make, db, project):
    held_pledge(make, project, 10_000)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    # the hold and the processor's fee; clearing, escrow and processor fees
    assert result.output.strip() == "Ledger OK (2 transfers, 3 accounts)"
    raw_transfer(db, "leak-1", ledger.escrow_key(project), ledger.clearing_key("CNY"), 10_500, "adjustment")
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    assert "Ledger has 2 problem(s):" in result.output
    assert f"Escrow account escrow:project:{project.id} is negative: -500 CNY." in result.output
