"""Writing a project: fields, slugs, sanitised Markdown, tiers, equity terms, uploads, and
what stays locked once backers may rely on it."""

import io
from datetime import timedelta

import pytest

from crowdfund.domain.money import max_minor
from crowdfund.errors import IllegalTransition, PermissionDenied, ValidationError
from crowdfund.models import Project, ProjectDocument, ProjectEdit, RewardTier, utcnow
from crowdfund.services.projects import basics, documents, equity_terms, submission, tiers
from tests.support.factories import PDF_BYTES, PNG_BYTES


def basics_data(**overrides):
    data = {
        "title": "Lantern Tea",
        "summary": "Tea from family gardens.",
        "description": "",
        "category": "food",
        "currency": "CNY",
        "goal": 2_500_050,
        "risks": "",
        "use_of_funds": "",
        "duration_days": "30",
    }
    data.update(overrides)
    return data


def test_a_founder_creates_a_draft_with_minor_units(db, make):
    firm = make.firm()
    project = basics.create_project(firm.members[0].user, firm, "reward", basics_data())
    db.session.commit()
    assert (project.status, project.goal, project.currency, project.slug) == ("draft", 2_500_050, "CNY", "lantern-tea")


def test_yen_has_no_minor_unit(db, make):
    firm = make.firm()
    owner = firm.members[0].user
    project = basics.create_project(owner, firm, "reward", basics_data(currency="JPY", goal=300_000))
    assert project.goal == 300_000  # 300,000 yen


@pytest.mark.parametrize(
    "goal,words",
    [
        (0, "greater than zero"),
        (-100, "cannot be negative"),
        (max_minor("CNY") + 1, "too large"),
        (None, "Enter the funding goal."),
    ],
)
def test_a_goal_out_of_bounds_is_refused(db, make, goal, words):
    firm = make.firm()
    with pytest.raises(ValidationError) as refused:
        basics.create_project(firm.members[0].user, firm, "reward", basics_data(goal=goal))
    assert words in refused.value.fields["goal"]
    assert db.session.query(Project).count() == 0


def test_services_take_amounts_in_minor_units_only(db, make):
    firm = make.firm()
    with pytest.raises(TypeError):  # text is for the web's MoneyField to read, not for a service
        basics.create_project(firm.members[0].user, firm, "reward", basics_data(goal="25000.50"))


def test_every_problem_is_reported_at_once(db, make):
    firm = make.firm()
    with pytest.raises(ValidationError) as refused:
        basics.create_project(
            firm.members[0].user, firm, "reward", basics_data(title="", category="cars", currency="XXX", summary="")
        )
    assert set(refused.value.fields) == {"title", "category", "currency", "summary"}
    assert db.session.query(Project).count() == 0


def test_only_members_of_the_firm_create_projects_for_it(db, make):
    firm = make.firm()
    with pytest.raises(PermissionDenied):
        basics.create_project(make.user(), firm, "reward", basics_data())


def test_slugs_are_unique_ascii_and_fall_back_for_chinese_titles(db, make):
    first = make.project(title="Café Crème: the book!")
    second = make.project(title="Cafe creme the book")
    chinese = make.project(title="龙井茶园")
    assert first.slug == "cafe-creme-the-book"
    assert second.slug == "cafe-creme-the-book-2"
    assert chinese.slug.startswith("project-") and len(chinese.slug) == len("project-") + 8


def test_the_slug_follows_the_title_in_draft_and_is_stable_after_launch(db, make):
    project = make.project(title="First name")
    owner = make.founder_of(project)
    basics.update_project(owner, project, {"title": "Better name"})
    assert project.slug == "better-name"
    live = make.live_project(title="Launched thing")
    with pytest.raises(ValidationError) as refused:
        basics.update_project(make.founder_of(live), live, {"title": "Renamed"})
    assert "cannot change after approval" in refused.value.fields["title"]
    db.session.rollback()
    assert (live.title, live.slug) == ("Launched thing", "launched-thing")


def test_description_is_rendered_and_no_script_gets_through(db, make):
    evil = (
        "# Our story\n\n**Bold** claim.\n\n<script>alert('x')</script>\n\n"
        '<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1)) <a href="https://ok.example" '
        'onclick="steal()">ok</a>\n\n<div style="position:fixed" onmouseover="x()">hover</div>'
    )
    project = make.project(description=evil)
    html = project.description_html
    assert "<strong>Bold</strong>" in html and "<h1>Our story</h1>" in html
    for bad in ("<script", "alert('x')", "onerror", "onclick", "onmouseover", "javascript:", "style="):
        assert bad not in html
    assert 'href="https://ok.example"' in html
    assert project.description == evil  # the founder's text is kept as written
    basics.update_project(make.founder_of(project), project, {"description": "<script>x()</script>plain"})
    assert "<script" not in project.description_html and "plain" in project.description_html


# --- tiers -----------------------------------------------------------------------------


def tier_data(**overrides):
    data = {
        "title": "Tin of tea",
        "description": "100 g",
        "price": 8800,
        "quantity": "50",
        "per_backer_limit": "2",
        "estimated_delivery": f"{utcnow().year + 1}-03",
        "shipping": "domestic",
        "shipping_fee": 1250,
    }
    data.update(overrides)
    return data


def test_a_tier_with_limits_shipping_and_a_window(db, make):
    project = make.project(complete=False, currency="CNY")
    start = utcnow() + timedelta(days=1)
    tier = tiers.add_tier(
        make.founder_of(project), project, tier_data(available_from=start, available_until=start + timedelta(days=7))
    )
    assert (tier.price, tier.quantity, tier.per_backer_limit, tier.shipping_fee) == (8800, 50, 2, 1250)
    assert tier.remaining == 50
    unlimited = tiers.add_tier(make.founder_of(project), project, tier_data(quantity="", per_backer_limit=""))
    assert unlimited.quantity is None and unlimited.remaining is None


@pytest.mark.parametrize(
    "overrides,field,words",
    [
        ({"price": 0}, "price", "greater than zero"),
        ({"price": -1}, "price", "cannot be negative"),
        ({"price": None}, "price", "Enter the reward's price."),
        ({"quantity": "0"}, "quantity", "at least 1"),
        ({"quantity": "5", "per_backer_limit": "6"}, "per_backer_limit", "more than the quantity"),
        ({"estimated_delivery": "2026/09"}, "estimated_delivery", "YYYY-MM"),
        ({"estimated_delivery": "2020-01"}, "estimated_delivery", "in the past"),
        ({"shipping": "moon"}, "shipping", "domestic or worldwide"),
        ({"shipping": "none", "shipping_fee": 500}, "shipping_fee", "no shipping fee"),
    ],
)
def test_tier_mistakes_are_explained(db, make, overrides, field, words):
    project = make.project(complete=False)
    with pytest.raises(ValidationError) as refused:
        tiers.add_tier(make.founder_of(project), project, tier_data(**overrides))
    assert words in refused.value.fields[field]
    assert db.session.query(RewardTier).count() == 0


def test_an_availability_window_must_end_after_it_starts(db, make):
    project = make.project(complete=False)
    start = utcnow() + timedelta(days=2)
    with pytest.raises(ValidationError) as refused:
        tiers.add_tier(
            make.founder_of(project),
            project,
            tier_data(available_from=start, available_until=start - timedelta(hours=1)),
        )
    assert "after its start" in refused.value.fields["available_until"]


def test_equity_projects_have_no_tiers(db, make):
    project = make.equity_project()
    with pytest.raises(ValidationError) as refused:
        tiers.add_tier(make.founder_of(project), project, tier_data())
    assert "Only reward projects" in refused.value.message


# --- locking after approval ------------------------------------------------------------


def test_terms_are_locked_after_approval_but_the_story_can_change_and_is_logged(db, make):
    project = make.approved_project(goal="5000", currency="USD")
    owner = make.founder_of(project)
    for change in ({"goal": 600_000}, {"currency": "EUR"}, {"category": "music"}):
        with pytest.raises(ValidationError) as refused:
            basics.update_project(owner, project, change)
        assert "cannot change after approval" in next(iter(refused.value.fields.values()))
        db.session.rollback()
    assert (project.goal, project.currency, project.category) == (500000, "USD", "design")
    # The same values again are fine (a form sends everything back).
    basics.update_project(
        owner,
        project,
        {"goal": 500_000, "currency": "USD", "description": "Now with *photos*.", "risks": "Fewer risks."},
    )
    db.session.commit()
    assert "<em>photos</em>" in project.description_html
    edits = {
        e.field: (e.old_value, e.new_value) for e in db.session.query(ProjectEdit).filter_by(project_id=project.id)
    }
    assert edits == {
        "description": ("We make **good** things.", "Now with *photos*."),
        "risks": ("Suppliers may be late.", "Fewer risks."),
    }
    with pytest.raises(ValidationError) as refused:
        basics.update_project(owner, project, {"risks": "  "})
    assert "cannot be emptied" in refused.value.fields["risks"]


def test_nothing_can_be_edited_in_review(db, make):
    project = make.submitted_project()
    with pytest.raises(ValidationError) as refused:
        basics.update_project(make.founder_of(project), project, {"summary": "Sneaky"})
    assert "in review, so it cannot be edited" in refused.value.message


def test_a_tier_with_pledges_may_only_grow(db, make):
    project = make.live_project()
    owner = make.founder_of(project)
    tier = project.tiers[0]
    tier.sold = 3  # pledges come from the pledges feature; three units are taken
    db.session.commit()
    data = tiers.tier_as_input(tier)
    with pytest.raises(ValidationError) as refused:
        tiers.update_tier(owner, tier, {**data, "price": 2000})
    assert "only its quantity can change" in refused.value.fields["price"]
    db.session.rollback()
    with pytest.raises(ValidationError) as refused:
        tiers.update_tier(owner, tier, {**data, "quantity": "99"})
    assert "can only go up" in refused.value.fields["quantity"]
    db.session.rollback()
    with pytest.raises(ValidationError) as refused:
        tiers.delete_tier(owner, tier)
    assert "has backers" in refused.value.message
    db.session.rollback()
    tiers.update_tier(owner, tier, {**data, "quantity": "150"})
    db.session.commit()
    db.session.expire_all()
    tier = db.session.get(RewardTier, tier.id)
    assert (tier.quantity, tier.price) == (150, 2500)
    assert db.session.query(ProjectEdit).filter_by(field=f"tier {tier.id} quantity").one().new_value == "150"


def test_tiers_without_pledges_can_still_change_after_launch_and_are_logged(db, make):
    project = make.live_project()
    owner = make.founder_of(project)
    tier = project.tiers[0]
    tiers.update_tier(owner, tier, {**tiers.tier_as_input(tier), "price": 3000})
    extra = tiers.add_tier(owner, project, tier_data(title="Late bird"))
    tiers.delete_tier(owner, extra)
    db.session.commit()
    fields = {e.field for e in db.session.query(ProjectEdit).filter_by(project_id=project.id)}
    assert {f"tier {tier.id} price", f"tier {extra.id} added", f"tier {extra.id} removed"} <= fields
    assert tier.price == 3000


# --- equity terms ----------------------------------------------------------------------


def equity_data(**overrides):
    data = {
        "security_type": "ordinary_shares",
        "price_per_share": 250,
        "shares_offered": "4000",
        "min_shares": "10",
        "pre_money_valuation": 25_000_000,
        "shares_outstanding": "100000",
    }
    data.update(overrides)
    return data


def test_equity_terms_are_checked_for_consistency(db, make):
    project = make.project(kind="equity", complete=False, goal="5000")
    owner = make.founder_of(project)
    offering = equity_terms.set_equity_terms(owner, project, equity_data())
    assert (offering.price_per_share, offering.shares_offered, offering.pre_money_valuation) == (250, 4000, 25_000_000)
    assert equity_terms.max_raise(project) == 1_000_000
    with pytest.raises(ValidationError) as refused:
        equity_terms.set_equity_terms(owner, project, equity_data(shares_offered="1000"))  # 2,500 < 5,000 goal
    assert "would not reach the goal" in refused.value.fields["shares_offered"]
    with pytest.raises(ValidationError) as refused:
        equity_terms.set_equity_terms(owner, project, equity_data(min_shares="5000"))
    assert "more shares than are offered" in refused.value.fields["min_shares"]
    with pytest.raises(ValidationError) as refused:
        equity_terms.set_equity_terms(owner, project, equity_data(pre_money_valuation=90_000_000))
    assert "price per share times the shares outstanding" in refused.value.fields["pre_money_valuation"]


def test_equity_terms_are_locked_after_approval(db, make):
    project = make.approved_project(kind="equity")
    with pytest.raises(ValidationError) as refused:
        equity_terms.set_equity_terms(make.founder_of(project), project, equity_data(price_per_share=100))
    assert "locked" in refused.value.message
    db.session.rollback()
    assert project.equity.price_per_share == 1000


# --- uploads ---------------------------------------------------------------------------


def upload(project, kind, content, content_type, filename="file"):
    return documents.upload_document(
        project.firm.members[0].user, project, kind, filename, content_type, io.BytesIO(content)
    )


def test_a_cover_image_is_stored_under_a_random_name(db, make, app):
    project = make.project()
    doc = upload(project, "cover", PNG_BYTES, "image/png", "../../etc/My Cover.png")
    db.session.commit()
    path = documents.document_path(doc)
    assert path.parent.name == "uploads" and path.read_bytes() == PNG_BYTES
    assert "Cover" not in doc.stored_name and doc.stored_name.endswith(".png")
    assert doc.filename == "My Cover.png" and doc.size == len(PNG_BYTES) and len(doc.sha256) == 64


@pytest.mark.parametrize(
    "kind,content,content_type,words",
    [
        ("business_plan", b"just text", "text/plain", "must be a PDF file"),
        ("business_plan", b"<html><script>x()</script></html>", "application/pdf", "not really a PDF file"),
        ("cover", PDF_BYTES, "image/png", "not really a JPEG, PNG, WebP or GIF image"),
        ("cover", PNG_BYTES, "application/pdf", "must be a JPEG, PNG, WebP or GIF image"),
        ("financial_statements", b"", "application/pdf", "empty"),
    ],
)
def test_uploads_are_checked_by_type_and_by_content(db, make, kind, content, content_type, words):
    project = make.project(kind="equity", complete=False)
    with pytest.raises(ValidationError) as refused:
        upload(project, kind, content, content_type)
    assert words in refused.value.fields["file"]
    assert db.session.query(ProjectDocument).count() == 0


def test_a_too_large_file_is_refused(db, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_MAX_DOCUMENT_BYTES", 1000)
    project = make.project(kind="equity", complete=False)
    with pytest.raises(ValidationError) as refused:
        upload(project, "business_plan", PDF_BYTES + b"0" * 1000, "application/pdf")
    assert "too large" in refused.value.fields["file"]
    assert upload(project, "business_plan", PDF_BYTES, "application/pdf").size == len(PDF_BYTES)


def test_disclosures_only_for_equity_and_locked_after_submission(db, make):
    reward = make.project()
    with pytest.raises(ValidationError):
        upload(reward, "business_plan", PDF_BYTES, "application/pdf")
    equity = make.approved_project(kind="equity")
    with pytest.raises(ValidationError) as refused:
        upload(equity, "business_plan", PDF_BYTES, "application/pdf")
    assert "locked" in refused.value.message
    db.session.rollback()
    upload(equity, "cover", PNG_BYTES, "image/png", "new.png")  # the story may still change
    db.session.commit()
    assert db.session.query(ProjectEdit).filter_by(project_id=equity.id, field="cover").one().new_value == "new.png"


def test_illegal_service_moves_leave_the_project_alone(db, make):
    project = make.live_project()
    with pytest.raises(IllegalTransition) as refused:
        submission.submit(make.founder_of(project), project)
    assert refused.value.message == "This project is live, so it cannot become in review."
    db.session.rollback()
    assert db.session.get(Project, project.id).status == "live"


def test_the_currency_cannot_change_under_priced_rewards(db, make):
    project = make.project(currency="USD")
    with pytest.raises(ValidationError) as refused:
        basics.update_project(make.founder_of(project), project, {"currency": "JPY", "goal": 500_000})
    assert "prices are in USD" in refused.value.fields["currency"]
    bare = make.project(complete=False, currency="USD")
    basics.update_project(make.founder_of(bare), bare, {"currency": "JPY", "goal": 500_000})
    assert (bare.currency, bare.goal) == ("JPY", 500000)
