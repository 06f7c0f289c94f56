"""Submission checks and the admin review."""

from datetime import timedelta

import pytest

from crowdfund.errors import IllegalTransition, PermissionDenied, ValidationError
from crowdfund.models import Firm, FirmMember, Project, Review, StateChange
from crowdfund.services import reviews
from crowdfund.services.projects import access, basics, submission
from crowdfund.services.transitions import history

ALL_TICKED = {key: True for key in reviews.CHECKLIST}


def test_submission_says_exactly_what_is_missing_for_a_reward_project(db, make):
    project = make.project(complete=False, description="", risks="", use_of_funds="")
    with pytest.raises(ValidationError) as refused:
        submission.submit(make.founder_of(project), project)
    assert refused.value.fields == {
        "description": "Describe the project.",
        "risks": "Describe the risks and challenges.",
        "use_of_funds": "Explain how the money will be used.",
        "tiers": "Add at least one reward tier.",
    }
    assert refused.value.message.startswith("This project is not ready for review yet:")
    db.session.rollback()
    assert db.session.get(Project, project.id).status == "draft" and history(project) == []


def test_submission_of_an_equity_project_needs_terms_and_both_documents(db, make):
    project = make.project(kind="equity", complete=False)
    with pytest.raises(ValidationError) as refused:
        submission.submit(make.founder_of(project), project)
    assert set(refused.value.fields) == {"equity", "business_plan", "financial_statements"}
    db.session.rollback()
    make.equity_terms(project)
    make.document(project, "business_plan")
    with pytest.raises(ValidationError) as refused:
        submission.submit(make.founder_of(project), project)
    assert refused.value.fields == {"financial_statements": "Upload the financial statements (PDF)."}
    db.session.rollback()
    make.document(project, "financial_statements")
    submission.submit(make.founder_of(project), project)
    assert project.status == "in_review"


def test_submission_needs_a_firm_with_a_valid_registration_number(db, make):
    project = make.project()
    db.session.query(Firm).filter_by(id=project.firm_id).update({"registration_number": "12"})
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(ValidationError) as refused:
        submission.submit(make.founder_of(project), project)
    assert list(refused.value.fields) == ["firm"]
    assert "registration number is not valid" in refused.value.fields["firm"]


def test_a_complete_project_goes_to_review_with_an_audit_row(db, make):
    project = make.project()
    owner = make.founder_of(project)
    submission.submit(owner, project)
    db.session.commit()
    row = history(project)[-1]
    assert (row.from_state, row.to_state, row.actor_id) == ("draft", "in_review", owner.id)


def test_only_the_firms_people_submit(db, make):
    project = make.project()
    with pytest.raises(PermissionDenied):
        submission.submit(make.user(), project)


def test_the_queue_is_oldest_submission_first_and_admins_only(db, make):
    older_id, newer_id = make.submitted_project().id, make.submitted_project().id
    make.project()  # a draft is not in the queue
    # The first-made project was (re)submitted later than the second one:
    row = db.session.query(StateChange).filter_by(entity_id=older_id, to_state="in_review").one()
    other = db.session.query(StateChange).filter_by(entity_id=newer_id, to_state="in_review").one()
    row.created_at = other.created_at + timedelta(minutes=5)
    db.session.commit()
    assert [p.id for p, _ in reviews.review_queue()] == [newer_id, older_id]


def test_approval_needs_every_applicable_check_and_a_grade(db, make):
    project = make.submitted_project()
    admin = make.admin()
    with pytest.raises(ValidationError) as refused:
        reviews.review_project(
            admin, project, "approve", checklist={**ALL_TICKED, "rewards_feasible": False}, risk_grade="B"
        )
    assert refused.value.message == (
        "Approval needs every checklist item: the rewards and delivery dates are feasible."
    )
    assert "rewards_feasible" in refused.value.fields
    db.session.rollback()
    with pytest.raises(ValidationError) as refused:
        reviews.review_project(admin, project, "approve", checklist=ALL_TICKED, risk_grade="")
    assert "risk grade" in refused.value.fields["risk_grade"]
    db.session.rollback()
    assert db.session.get(Project, project.id).status == "in_review"
    assert db.session.query(Review).count() == 0
    # financials_present does not apply to a reward project: leaving it unticked is fine.
    reviews.review_project(
        admin, project, "approve", checklist={**ALL_TICKED, "financials_present": False}, risk_grade="c"
    )
    db.session.commit()
    review = db.session.query(Review).one()
    assert (project.status, project.risk_grade, review.risk_grade) == ("approved", "C", "C")
    assert "financials_present" not in review.checklist and all(review.checklist.values())


def test_equity_approval_needs_financials_but_not_rewards(db, make):
    project = make.submitted_project(kind="equity")
    admin = make.admin()
    with pytest.raises(ValidationError) as refused:
        reviews.review_project(
            admin, project, "approve", checklist={**ALL_TICKED, "financials_present": False}, risk_grade="D"
        )
    assert list(refused.value.fields) == ["financials_present", "checklist"]
    db.session.rollback()
    reviews.review_project(
        admin, project, "approve", checklist={**ALL_TICKED, "rewards_feasible": False}, risk_grade="D"
    )
    assert project.status == "approved"


@pytest.mark.parametrize("decision,status", [("request_changes", "changes_requested"), ("reject", "rejected")])
def test_changes_and_rejection_need_a_note_the_founder_sees(db, make, decision, status):
    project = make.submitted_project()
    admin = make.admin()
    with pytest.raises(ValidationError) as refused:
        reviews.review_project(admin, project, decision, note="   ")
    assert refused.value.fields == {"note": "Write a note for the founder explaining the decision."}
    db.session.rollback()
    reviews.review_project(admin, project, decision, note="Show a prototype photo.")
    db.session.commit()
    assert project.status == status
    assert access.latest_review(project).note == "Show a prototype photo."
    assert history(project)[-1].note == "Show a prototype photo."


def test_after_changes_are_requested_the_founder_edits_and_resubmits(db, make):
    project = make.submitted_project()
    reviews.review_project(make.admin(), project, "request_changes", note="Lower the goal.")
    owner = make.founder_of(project)
    basics.update_project(owner, project, {"goal": 300_000})
    submission.submit(owner, project)
    db.session.commit()
    assert (project.status, project.goal) == ("in_review", 300000)
    assert [r.to_state for r in history(project)] == ["in_review", "changes_requested", "in_review"]


def test_nobody_reviews_a_project_of_their_own_firm(db, make):
    admin = make.admin()
    firm = make.firm(owner=admin)
    project = make.submitted_project(firm=firm)
    with pytest.raises(PermissionDenied) as refused:
        reviews.review_project(admin, project, "approve", checklist=ALL_TICKED, risk_grade="A")
    assert refused.value.message == "You cannot review a project of a firm you belong to."
    colleague = make.admin()
    db.session.add(FirmMember(firm_id=firm.id, user_id=colleague.id, role="member"))
    db.session.commit()
    with pytest.raises(PermissionDenied):
        reviews.review_project(colleague, project, "reject", note="no")
    db.session.rollback()
    assert db.session.get(Project, project.id).status == "in_review"


def test_non_admins_cannot_review(db, make):
    project = make.submitted_project()
    with pytest.raises(PermissionDenied) as refused:
        reviews.review_project(make.user(), project, "approve", checklist=ALL_TICKED, risk_grade="A")
    assert refused.value.message == "Only administrators can do that."


def test_a_project_not_in_review_cannot_be_decided(db, make):
    project = make.project()
    with pytest.raises(IllegalTransition) as refused:
        reviews.review_project(make.admin(), project, "approve", checklist=ALL_TICKED, risk_grade="A")
    assert refused.value.message == "This project is a draft, so it cannot become approved."
    db.session.rollback()
    assert db.session.query(Review).count() == 0 and history(project) == []


@pytest.mark.postgres_only
def test_two_reviewers_at_once_decide_once(app, db, make):
    """The second reviewer opened the project before the first decided: their stale copy
    still says 'in review', but the decision re-reads it under a lock and is refused."""
    from crowdfund.extensions import db as _db

    project = make.submitted_project()
    first, second = make.admin(), make.admin()
    assert project.status == "in_review"  # the second reviewer's view, loaded now
    with app.app_context():  # the first reviewer, in their own request
        mine = _db.session.get(Project, project.id)
        reviews.review_project(
            _db.session.get(type(first), first.id), mine, "approve", checklist=ALL_TICKED, risk_grade="B"
        )
        _db.session.commit()
    with pytest.raises(IllegalTransition) as refused:
        reviews.review_project(second, project, "reject", note="No.")
    assert refused.value.message == "This project is approved, so it cannot become rejected."
    db.session.rollback()
    assert db.session.query(Review).count() == 1
