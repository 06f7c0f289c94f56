from wtforms.widgets import Select

from crowdfund.web.firms.forms import FirmForm
from crowdfund.web.forms import CountrySelect
from crowdfund.web.pledges.forms import BackForm


def test_the_country_lists_render_exactly_as_wtforms_would(app):
    # CountrySelect reuses each rendered <option>; what it renders must not change by it.
    for lang in ("en", "zh"):
        with app.test_request_context(f"/?lang={lang}"):
            for field in (BackForm(meta={"csrf": False}).shipping_country, FirmForm(meta={"csrf": False}).country):
                assert isinstance(field.widget, CountrySelect)
                for chosen in (None, "GB", "CN", "not-a-country"):
                    field.data = chosen
                    html = str(field())
                    assert html == str(Select()(field))
                    assert html.count("<option") > 200
                    assert html.count(" selected") == (1 if chosen in ("GB", "CN") else 0)


def test_a_country_list_is_in_the_viewers_language(app):
    with app.test_request_context("/?lang=zh"):
        form = BackForm(meta={"csrf": False})
        form.shipping_country.data = "CN"
        assert '<option selected value="CN">中国</option>' in str(form.shipping_country())
