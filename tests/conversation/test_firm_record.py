"""A firm's public profile (/firms/<id>) and public API record: its registered details, its
people, and every campaign with a public page."""

import re

from crowdfund.models import Project
from crowdfund.services import campaigns
from tests.conftest import csrf_token
from tests.conversation.test_api import Api


def test_anyone_may_read_a_firm_with_a_public_campaign(db, make, campaign, client_for):
    project, founder, _backer = campaign
    stopped = make.live_project(firm=project.firm, title="An earlier lamp")
    campaigns.cancel(founder, stopped, "Supplier closed.")
    draft = make.project(firm=project.firm, title="A secret draft")
    db.session.commit()
    firm_page = f"/firms/{project.firm_id}"

    page = client_for(None).get(firm_page).get_data(as_text=True)
    assert "Lantern Workshop Ltd" in page and project.firm.registration_number in page
    assert project.title in page and "An earlier lamp" in page and "Cancelled" in page
    assert draft.title not in page and "Payouts" not in page and "acct_" not in page
    assert '<meta property="og:title" content="Lantern Workshop Ltd">' in page
    assert "1 backer" in page and "$25.00 pledged of a $5,000.00 goal" in page
    assert "登记信息" in client_for(None).get(firm_page + "?lang=zh").get_data(as_text=True)

    own = client_for(founder)
    assert "Payouts" in own.get(firm_page).get_data(as_text=True)  # its people see their own page
    assert "Payouts" not in own.get(firm_page + "?view=public").get_data(as_text=True)
    assert f'href="/firms/{project.firm_id}"' in client_for(None).get(f"/p/{project.slug}").get_data(as_text=True)

    quiet = make.firm(legal_name="Quiet Ltd")
    make.project(firm=quiet)
    assert client_for(None).get(f"/firms/{quiet.id}").status_code == 404  # nothing public yet
    assert client_for(make.user()).get(f"/firms/{quiet.id}").status_code == 404


def test_founders_name_their_people(db, make, campaign, client_for):
    project, founder, backer = campaign
    own, people = client_for(founder), f"/firms/{project.firm_id}/people"
    response = own.post(people, data={"name": "", "role": "Director", "csrf_token": csrf_token(own, people)})
    assert response.status_code == 422 and "Write the person's name." in response.get_data(as_text=True)
    response = own.post(
        people, data={"name": "Fang Wei", "role": "Founder and director", "csrf_token": csrf_token(own, people)}
    )
    assert response.status_code == 302
    profile = client_for(None).get(f"/firms/{project.firm_id}").get_data(as_text=True)
    assert "<strong>Fang Wei</strong>" in profile and "Founder and director" in profile

    outsider = client_for(backer)
    assert outsider.get(people).status_code == 404
    page = own.get(people).get_data(as_text=True)
    [remove] = re.findall(r'action="(/firms/\d+/people/\d+/remove)"', page)  # the one person's "Remove"
    assert own.post(remove, data={"csrf_token": csrf_token(own, people)}).status_code == 302
    assert "Fang Wei" not in client_for(None).get(f"/firms/{project.firm_id}").get_data(as_text=True)


def test_the_api_gives_the_public_record_without_private_fields(db, make, campaign, client):
    project, founder, _backer = campaign
    api = Api(client)
    body = api.get(f"/firms/{project.firm_id}").get_json()
    assert "payout_account" not in body and "locked" not in body
    assert body["name"] == "Lantern Workshop Ltd" and body["people"] == []
    assert [(c["id"], c["status"], c["pledged"], c["backers"]) for c in body["campaigns"]] == [
        (project.id, "live", 2500, 1)
    ]
    own = api.get(f"/firms/{project.firm_id}", token=api.token_for(founder)).get_json()
    assert own["payout_account"] == {"status": "verified"} and own["campaigns"] == body["campaigns"]
    quiet = make.firm()
    assert api.get(f"/firms/{quiet.id}").status_code == 404


def test_the_sitemap_lists_public_firms(db, make, campaign, client):
    project, _founder, _backer = campaign
    quiet = make.firm()
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert f"<loc>http://localhost/firms/{project.firm_id}</loc>" in sitemap
    assert f"/firms/{quiet.id}<" not in sitemap
    assert db.session.get(Project, project.id).status == "live"
