"""The conversation through the JSON API, and ended campaigns' answers."""

import pytest

from crowdfund.services import campaigns
from tests.api.conftest import Api


@pytest.fixture()
def api(client):
    return Api(client)


def error_code(response):
    return response.get_json()["error"]["code"]


def test_ask_answer_report_hide_through_the_api(db, make, campaign, api):
    project, founder, backer = campaign
    reporter, admin = make.user(name="Rita Reporter"), make.admin()
    path = f"/projects/{project.id}/comments"

    asked = api.post(path, {"body": "Is it *dimmable*?"}, token=api.token_for(backer))
    assert asked.status_code == 201
    question = asked.get_json()
    assert question["author"] == {"name": "Bo Backer", "role": "backer", "firm": None}
    assert (question["body"], question["body_html"]) == ("Is it *dimmable*?", "<p>Is it <em>dimmable</em>?</p>")
    assert question["replies"] == [] and question["hidden"] is False and question["parent_id"] is None

    answered = api.post(path, {"body": "Yes.", "parent_id": question["id"]}, token=api.token_for(founder))
    assert answered.status_code == 201
    assert answered.get_json()["author"] == {"name": "Fang Founder", "role": "founder", "firm": "Lantern Workshop Ltd"}
    [listed] = api.get(path).get_json()["items"]  # anyone may read it
    assert set(listed) >= {"id", "body", "author", "created_at", "replies"}
    assert listed["id"] == question["id"] and listed["created_at"].endswith("Z")
    assert [(r["body"], r["author"]["role"]) for r in listed["replies"]] == [("Yes.", "founder")]

    reported = api.post(f"/comments/{question['id']}/report", {"reason": "Spam"}, token=api.token_for(reporter))
    assert reported.status_code == 200 and reported.get_json() == {"comment_id": question["id"], "reported": True}

    hide = f"/admin/comments/{question['id']}/hide"
    assert api.post(hide, {"reason": "Spam"}, token=api.token_for(reporter)).status_code == 403
    assert error_code(api.post(hide, {"reason": " "}, token=api.token_for(admin))) == "validation_error"
    hidden = api.post(hide, {"reason": "Spam"}, token=api.token_for(admin))
    shown = hidden.get_json()
    assert hidden.status_code == 200 and (shown["hidden"], shown["body"], shown["body_html"]) == (True, None, None)
    listing = api.get(path)
    assert "dimmable" not in listing.get_data(as_text=True)
    [listed] = listing.get_json()["items"]
    assert listed["hidden"] is True and listed["replies"][0]["body"] == "Yes."


def test_refusals_are_clear_and_change_nothing(db, make, campaign, api, app, monkeypatch):
    project, _founder, backer = campaign
    path = f"/projects/{project.id}/comments"
    assert api.post(path, {"body": "Hi"}).status_code == 401
    unverified = make.user(verified=False)
    assert error_code(api.post(path, {"body": "Hi"}, token=api.token_for(unverified))) == "email_unverified"
    token = api.token_for(backer)
    empty = api.post(path, {"body": ""}, token=token)
    assert empty.status_code == 422 and set(empty.get_json()["error"]["fields"]) == {"body"}
    stray = api.post(path, {"body": "Hi", "parent_id": 2**31 - 1}, token=token)
    assert stray.status_code == 422 and set(stray.get_json()["error"]["fields"]) == {"parent_id"}
    assert api.post(path, {"body": "Hi", "extra": 1}, token=token).status_code == 422
    draft = make.project()
    assert api.get(f"/projects/{draft.id}/comments").status_code == 404
    assert api.post(f"/projects/{draft.id}/comments", {"body": "Hi"}, token=token).status_code == 404
    assert api.post("/comments/999999/report", {}, token=token).status_code == 404
    monkeypatch.setitem(app.config, "RATELIMIT_COMMENTS", "1 per minute")
    assert api.post(path, {"body": "One"}, token=token).status_code == 201
    limited = api.post(path, {"body": "Two"}, token=token)
    assert limited.status_code == 429 and error_code(limited) == "rate_limited"
    assert [item["body"] for item in api.get(path).get_json()["items"]] == ["One"]


@pytest.mark.parametrize("stop", ["cancel", "suspend"])
def test_a_stopped_campaign_answers_with_its_outcome_and_why(db, make, campaign, api, stop):
    project, founder, _backer = campaign
    if stop == "cancel":
        campaigns.cancel(founder, project, "Our supplier closed.")
    else:
        campaigns.suspend(make.admin(), project, "The firm's registration lapsed.")
    db.session.commit()
    body = api.get(f"/projects/{project.id}").get_json()
    expected = {
        "cancel": ("cancelled", "Our supplier closed."),
        "suspend": ("suspended", "The firm's registration lapsed."),
    }[stop]
    assert (body["status"], body["end_reason"]) == expected
    assert api.get(f"/projects/{project.id}/comments").status_code == 200
    live = make.live_project()
    assert api.get(f"/projects/{live.id}").get_json()["end_reason"] is None
    for private in (make.project(), make.submitted_project()):
        assert api.get(f"/projects/{private.id}").status_code == 404


def test_the_openapi_document_names_the_operations(api):
    paths = api.get("/openapi.json").get_json()["paths"]
    assert set(paths["/projects/{project_id}/comments"]) == {"get", "post"}
    assert set(paths["/admin/comments/{comment_id}/hide"]) == {"post"}
    assert set(paths["/comments/{comment_id}/report"]) == {"post"}
