"""POST /api/v1/projects/{id}/images: a story image through the API."""

import io

from PIL import Image

from tests.api.conftest import error_of
from tests.story_media.conftest import photo


def upload(api, project, content, token, name="plan.jpg", mimetype="image/jpeg"):
    return api.post(
        f"/projects/{project.id}/images",
        data={"file": (io.BytesIO(content), name, mimetype)},
        content_type="multipart/form-data",
        token=token,
    )


def test_a_founder_uploads_an_image_and_gets_its_markdown(api, make, client):
    project = make.project()
    token = api.token_for(make.founder_of(project))
    response = upload(api, project, photo(3200, 1000, orientation=8), token, mimetype="application/octet-stream")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) >= {"id", "url", "markdown"}
    assert body["markdown"] == f"![plan]({body['url'].removeprefix('http://localhost')})"
    assert (body["width"], body["height"], body["content_type"]) == (
        1000,
        3200,
        "image/jpeg",
    )  # upright, and narrow enough to keep its size
    served = client.get(body["url"].removeprefix("http://localhost"), headers={"Authorization": f"Bearer {token}"})
    # The file is the founder's (a draft): a signed-in founder of the web sees it; the API's
    # bearer token is not a browser session, so here the image answers 404 until the campaign is public.
    assert served.status_code == 404
    listed = api.get(f"/projects/{project.id}/images", token=token).get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]


def test_what_is_not_an_image_is_refused_with_the_field_named(api, make):
    project = make.project()
    token = api.token_for(make.founder_of(project))
    response = upload(api, project, b"%PDF-1.4 not a picture", token, name="cat.png", mimetype="image/png")
    assert response.status_code == 422
    error = error_of(response)
    assert error["fields"] == {"file": "This file is not a JPEG, PNG, WebP or GIF image that we can read."}
    missing = api.post(f"/projects/{project.id}/images", data={}, content_type="multipart/form-data", token=token)
    assert missing.status_code == 422 and "file" in error_of(missing)["fields"]
    assert api.get(f"/projects/{project.id}/images", token=token).get_json() == {"items": []}


def test_only_the_firms_people_upload_or_list(api, make):
    project = make.live_project()
    stranger = api.token_for(make.user())
    assert upload(api, project, photo(100, 100), stranger).status_code == 403
    assert api.get(f"/projects/{project.id}/images", token=stranger).status_code == 403
    draft = make.project()
    assert upload(api, draft, photo(100, 100), stranger).status_code == 404


def test_a_decompression_bomb_is_refused_before_it_is_decoded(api, make):
    project = make.project()
    token = api.token_for(make.founder_of(project))
    bomb = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(bomb, format="PNG")  # 100 megapixels in a few kilobytes
    response = upload(api, project, bomb.getvalue(), token, name="bomb.png", mimetype="image/png")
    assert response.status_code == 422
    assert error_of(response)["fields"]["file"] == (
        "This image has too many pixels. Make it smaller, then upload it again."
    )
