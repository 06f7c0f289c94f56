from crowdfund.models import Firm, User


def test_create_admin(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create-admin", "Root@Example.com", "--password", "a long admin phrase"])
    assert result.exit_code == 0, result.output
    admin = db.session.query(User).one()
    assert admin.is_admin and admin.email == "root@example.com"


def test_create_admin_refuses_a_weak_password(app, db):
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "root@example.com", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert db.session.query(User).count() == 0


def test_create_admin_promotes_an_existing_account(app, make, db):
    user = make.user(email="bo@example.com")
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "bo@example.com", "--password", "a long admin phrase"]
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert user.is_admin and db.session.query(User).count() == 1


def test_seed_is_idempotent(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    counts = (db.session.query(User).count(), db.session.query(Firm).count())
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0 and "nothing added" in second.output
    assert (db.session.query(User).count(), db.session.query(Firm).count()) == counts
    assert counts[0] >= 3 and counts[1] >= 1
    from crowdfund import ledger
    from crowdfund.models import Pledge, Project

    # A dozen campaigns of every outcome (crowdfund/demo/): live, funded, failed, flexible.
    statuses = [p.status for p in db.session.query(Project)]
    assert len(statuses) == 12 and {"in_review", "live", "successful", "failed"} <= set(statuses)
    assert {p.funding_model for p in db.session.query(Project)} == {"all_or_nothing", "flexible"}
    assert {p.status for p in db.session.query(Pledge)} == {"held", "released", "refunded"}
    assert ledger.verify() == []
