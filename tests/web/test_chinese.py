"""With `Accept-Language: zh-CN` the project page and the whole pledge flow are in Chinese.

The test campaigns are written in Chinese too, so any English word left on the page is
ours: the visible text (and the attributes a screen reader or a browser shows) is taken
from the HTML, and no ASCII word of three or more letters may remain except brand and
format names that stay as they are in Chinese.
"""

import re
from html.parser import HTMLParser

import pytest

from crowdfund.domain.money import SUPPORTED_CURRENCIES
from crowdfund.models import Pledge
from crowdfund.services import campaigns, investors, reviews
from crowdfund.services.projects import documents, submission
from tests.conftest import csrf_token
from tests.support.factories import VALID_USCC

# Names that stay in Latin letters in Chinese: the brand, card brands, the name of the other
# language on the language switch, currency codes and file formats.
ALLOWED = {
    "Crowdfund",
    "English",
    "Visa",
    "Mastercard",
    "PDF",
    "JPEG",
    "PNG",
    "WebP",
    "GIF",
    "Markdown",
    "UTC",
    "KB",
    "MB",
    *SUPPORTED_CURRENCIES,
}
VISIBLE_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


class VisibleText(HTMLParser):
    """The text a person sees or hears: element text outside <script>/<style>/<code>, plus
    labels in attributes and the captions of submit buttons."""

    HIDDEN = {"script", "style", "code"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._hidden = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN:
            self._hidden += 1
        for name in VISIBLE_ATTRIBUTES:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def english_words(html):
    parser = VisibleText()
    parser.feed(html)
    text = EMAIL.sub(" ", " ".join(parser.parts))
    return sorted({word for word in re.findall(r"[A-Za-z]{3,}", text) if word not in ALLOWED})


def assert_chinese(response, *must_contain):
    html = response.get_data(as_text=True)
    assert '<html lang="zh-Hans">' in html
    for text in must_contain:
        assert text in html, text
    assert english_words(html) == [], english_words(html)


@pytest.fixture()
def zh_client(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    return client


def chinese_campaign(make, db, kind="reward"):
    founder = make.user(name="王芳", email=f"founder-{kind}@example.com")
    admin = make.user(name="管理员", admin=True)
    firm = make.firm(
        owner=founder,
        legal_name="杭州灯笼茶业有限公司",
        country="CN",
        registration_number=VALID_USCC[0] if kind == "reward" else VALID_USCC[1],
        address="杭州市西湖区龙井路 88 号",
        description="三代人经营的小茶园。",
    )
    project = make.project(
        firm=firm,
        kind=kind,
        complete=False,
        title="明前龙井" if kind == "reward" else "灯笼茶业股权",
        summary="来自家庭茶园的手工春茶。",
        description="我们用**传统工艺**炒制每一片茶叶。\n\n- 手工采摘\n- 小批量",
        category="food",
        currency="CNY",
        goal="10000",
        risks="天气可能影响产量。",
        use_of_funds="购买包装和支付邮费。",
    )
    if kind == "reward":
        make.tier(
            project,
            title="一罐明前龙井",
            description="一百克装",
            price="88",
            quantity="50",
            shipping="domestic",
            shipping_fee="10",
            estimated_delivery="2030-05",
        )
        make.tier(project, title="收藏礼盒", description="限量礼盒", price="388", quantity="1")
    else:
        make.equity_terms(
            project,
            price_per_share="10",
            shares_offered="2000",
            min_shares="5",
            pre_money_valuation="1000000",
            shares_outstanding="100000",
        )
        for doc_kind in documents.DISCLOSURE_KINDS:
            make.document(project, doc_kind)
    submission.submit(founder, project)
    reviews.review_project(
        admin,
        project,
        "approve",
        risk_grade="B",
        note="材料齐全。",
        checklist={key: True for key in reviews.applicable_checks(project)},
    )
    db.session.commit()
    from datetime import timedelta

    from crowdfund.models import utcnow

    campaigns.launch(founder, project, utcnow() + timedelta(days=25))  # an offering runs at least 21 days
    db.session.commit()
    return project


def zh_login(client, user):
    response = client.post(
        "/account/login",
        data={
            "email": user.email,
            "password": "correct horse battery",
            "csrf_token": csrf_token(client, "/account/login"),
        },
    )
    assert response.status_code == 302


def form_token(client, path):
    return csrf_token(client, path)


def test_the_reward_project_page_and_pledge_flow_are_all_chinese(zh_client, make, db):
    project = chinese_campaign(make, db)
    sold_out = project.tiers[1]
    sold_out.sold = 1
    db.session.commit()
    page = f"/p/{project.slug}"
    assert_chinese(zh_client.get(page), "支持这个项目", "剩余时间", "已售罄", "2030年5月", "¥0.00")
    assert_chinese(zh_client.get("/"), "明前龙井", "进行中的项目")

    backer = make.user(name="李明", email="li@example.com")
    zh_login(zh_client, backer)
    assert_chinese(zh_client.get(page))
    back = f"{page}/back"
    assert_chinese(zh_client.get(back), "选择回报", "立即支持", "银联")
    data = {
        "csrf_token": form_token(zh_client, back),
        "idempotency_key": re.search(
            r'name="idempotency_key"[^>]*value="([^"]+)"', zh_client.get(back).get_data(as_text=True)
        ).group(1),
        "tier_id": str(project.tiers[0].id),
        "quantity": "x",
        "payment_method": "pm_card_visa",
        "shipping_name": "李明",
    }
    refused = zh_client.post(back, data=data)
    assert refused.status_code == 422
    assert_chinese(refused, "李明")  # what was typed stays, and every error is in Chinese
    data.update(
        quantity="2",
        shipping_line1="龙井路 1 号",
        shipping_city="杭州",
        shipping_postal_code="310000",
        shipping_country="CN",
    )
    refused = zh_client.post(back, data={**data, "payment_method": "pm_card_chargeDeclined"})
    assert refused.status_code == 402
    assert_chinese(refused, "您的银行卡被拒绝了。")
    data["idempotency_key"] = re.search(
        r'name="idempotency_key"[^>]*value="([^"]+)"', refused.get_data(as_text=True)
    ).group(1)
    placed = zh_client.post(back, data=data)
    assert placed.status_code == 302
    pledge = db.session.query(Pledge).filter_by(status="held").one()
    assert_chinese(zh_client.get(placed.headers["Location"]), "感谢支持", "托管中", "¥186.00")
    assert_chinese(zh_client.get("/me/pledges"), "我的支持", "取消并退款")
    assert_chinese(zh_client.get(page), "¥186.00")
    failed = db.session.query(Pledge).filter_by(status="failed").one()
    assert_chinese(zh_client.get(f"/pledges/{failed.id}"), "您的银行卡被拒绝了。")
    cancelled = zh_client.post(
        f"/pledges/{pledge.id}/cancel", data={"csrf_token": form_token(zh_client, "/me/pledges"), "next": "/me/pledges"}
    )
    assert_chinese(zh_client.get(cancelled.headers["Location"]), "您的支持已取消")


def test_the_equity_page_and_investing_are_all_chinese(zh_client, make, db):
    project = chinese_campaign(make, db, kind="equity")
    page = f"/p/{project.slug}"
    assert_chinese(zh_client.get(page), "投资有风险", "商业计划书", "每股价格")
    investor = make.user(name="赵投资", email="zhao@example.com")
    zh_login(zh_client, investor)
    back = f"{page}/back"
    assert_chinese(zh_client.get(back), "完善投资者资料")
    profile = f"/me/investor-profile?next={back}"
    assert_chinese(zh_client.get(profile), "投资者资料")
    refused = zh_client.post(
        profile,
        data={"csrf_token": form_token(zh_client, profile), "currency": "CNY", "annual_income": "abc", "net_worth": ""},
    )
    assert refused.status_code == 422
    assert_chinese(refused)
    investors.save_profile(
        investor,
        {
            "currency": "CNY",
            "annual_income": 20_000_000,
            "net_worth": 30_000_000,
            "accredited": False,
            "other_investments_12m": 0,
            "risk_acknowledged": True,
        },
    )
    db.session.commit()
    form = zh_client.get(back)
    assert_chinese(form, "未来 12 个月内您最多还可以投资")
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', form.get_data(as_text=True)).group(1)
    data = {
        "csrf_token": form_token(zh_client, back),
        "idempotency_key": key,
        "shares": "2",
        "acknowledge_risks": "y",
        "payment_method": "pm_card_visa",
    }
    refused = zh_client.post(back, data=data)
    assert refused.status_code == 422
    assert_chinese(refused, "最低认购 5 股。")
    data.update(
        shares="50",
        idempotency_key=re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', refused.get_data(as_text=True)).group(
            1
        ),
    )
    placed = zh_client.post(back, data=data)
    assert placed.status_code == 302
    assert_chinese(zh_client.get(placed.headers["Location"]), "50 股", "¥500.00")


def test_a_mail_in_another_language_inside_a_chinese_request_and_the_page_after_it(app):
    # Templates look the catalogue up once per request and language (crowdfund/web/i18n.py):
    # a language forced for one message must not stick, in either direction.
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/?lang=zh"):
        assert render_template_string("{{ _('Updates') }}") == "项目动态"
        with force_locale("en"):
            assert render_template_string("{{ _('Updates') }}") == "Updates"
        assert render_template_string("{{ _('Updates') }}") == "项目动态"


def test_the_forms_own_messages_are_in_chinese_too(zh_client, make, db):
    # "This field is required." and the other messages WTForms writes come from its own catalogue.
    founder = make.user(name="王芳", email="founder-forms@example.com")
    make.firm(owner=founder, legal_name="杭州灯笼茶业有限公司", country="CN", registration_number=VALID_USCC[0])
    zh_login(zh_client, founder)

    refused = zh_client.post(
        "/projects/new",
        data={"csrf_token": form_token(zh_client, "/projects/new"), "kind": "reward", "category": "no-such-category"},
    )

    assert refused.status_code == 422
    assert_chinese(refused, "该字段是必填字段。", "不是有效的选择")


def test_the_forms_catalogue_is_read_once_per_language(app, monkeypatch):
    from babel import support

    from crowdfund.web import forms
    from crowdfund.web.auth.forms import LoginForm

    reads = []
    load = support.Translations.load
    monkeypatch.setattr(
        support.Translations,
        "load",
        lambda *args, **kwargs: reads.append(kwargs.get("domain")) or load(*args, **kwargs),
    )
    forms.wtforms_catalogue.cache_clear()
    for lang, required in (
        ("zh", "该字段是必填字段。"),
        ("en", "This field is required."),
        ("zh", "该字段是必填字段。"),
    ):
        with app.test_request_context(f"/login?lang={lang}", method="POST", data={}):
            form = LoginForm(meta={"csrf": False})
            assert not form.validate()
            assert form.email.errors == [required]
    assert reads.count("wtforms") == 2  # zh and en, each once
