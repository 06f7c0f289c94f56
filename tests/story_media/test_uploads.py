"""Founders add images to their story on the editor page and through the API; readers see them
on the campaign page, served as covers are."""

import io
import random
import re

from PIL import Image

from crowdfund.services import campaigns
from crowdfund.services.projects import basics
from tests.conftest import csrf_token
from tests.story_media.conftest import photo

SNIPPET = re.compile(r"!\[[^\]]*\]\((/story-images/[A-Za-z0-9_-]+\.(?:jpg|png))\)")


def add_on_the_page(client, project, content, name="workshop.jpg", mimetype="image/jpeg"):
    return client.post(
        f"/projects/{project.id}/images",
        data={
            "image": (io.BytesIO(content), name, mimetype),
            "csrf_token": csrf_token(client, f"/projects/{project.id}/edit"),
        },
        content_type="multipart/form-data",
    )


def snippets_on(page):
    return [m.group(0) for m in SNIPPET.finditer(page.replace("&#34;", '"'))]


def test_a_founder_adds_an_upright_smaller_image_without_its_metadata(client, make, login):
    project = make.project()
    login(make.founder_of(project))
    # A phone photo stored sideways: EXIF orientation 6 says "turn it a quarter clockwise".
    response = add_on_the_page(client, project, photo(2400, 1200, orientation=6))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/projects/{project.id}/edit#story-images")
    editor = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert "The image is added. Paste its Markdown into the description where it belongs." in editor
    [snippet] = snippets_on(editor)
    assert snippet.startswith("![workshop](/story-images/")
    url = SNIPPET.search(snippet).group(1)

    served = client.get(url)
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (1200, 2400)  # upright (portrait); 1200 wide fits the maximum width
    assert image.getexif() == {}  # no camera model, no GPS position, no orientation left
    assert b"Secret Camera" not in served.data


def test_a_wide_image_is_scaled_to_the_maximum_width(client, make, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "STORY_IMAGE_MAX_WIDTH", 600)
    project = make.project()
    login(make.founder_of(project))
    add_on_the_page(client, project, photo(2400, 1200, fmt="WEBP"), name="wide.webp", mimetype="image/webp")
    url = SNIPPET.search(snippets_on(client.get(f"/projects/{project.id}/edit").get_data(as_text=True))[0]).group(1)
    image = Image.open(io.BytesIO(client.get(url).data))
    assert (image.format, image.size) == ("JPEG", (600, 300))


def test_a_transparent_png_stays_a_png(client, make, login):
    project = make.project()
    login(make.founder_of(project))
    add_on_the_page(client, project, photo(300, 200, fmt="PNG", mode="RGBA", color=(0, 0, 0, 0)), name="logo.png")
    url = SNIPPET.search(snippets_on(client.get(f"/projects/{project.id}/edit").get_data(as_text=True))[0]).group(1)
    served = client.get(url)
    assert served.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(served.data)).mode == "RGBA"


def test_story_images_are_served_with_the_covers_headers(client, make, login):
    project = make.project()
    cover = make.document(project, "cover")
    login(make.founder_of(project))
    add_on_the_page(client, project, photo(400, 300))
    url = SNIPPET.search(snippets_on(client.get(f"/projects/{project.id}/edit").get_data(as_text=True))[0]).group(1)
    image = client.get(url)
    cover_response = client.get(f"/p/{project.slug}/files/{cover.id}")
    for header in ("Cache-Control", "X-Content-Type-Options", "Content-Security-Policy", "Referrer-Policy"):
        assert image.headers.get(header) == cover_response.headers.get(header), header
    assert image.headers["Cache-Control"] == "private, max-age=300"
    assert image.headers["Content-Disposition"].startswith("inline")


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(client, make, login):
    project = make.project()
    login(make.founder_of(project))
    for content in (b"<svg onload=alert(1)></svg>", b"MZ\x90\x00 a program", photo(400, 300)[:200]):
        response = add_on_the_page(client, project, content, name="holiday.jpg", mimetype="image/jpeg")
        assert response.status_code == 422
        assert "This file is not a JPEG, PNG, WebP or GIF image that we can read." in response.get_data(as_text=True)
    assert snippets_on(client.get(f"/projects/{project.id}/edit").get_data(as_text=True)) == []
    # A real image with a misleading name and type is taken for what it is.
    assert add_on_the_page(client, project, photo(400, 300), name="notes.txt", mimetype="text/plain").status_code == 302


def test_the_size_and_number_of_images_are_capped(client, make, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "STORY_IMAGE_MAX_COUNT", 2)
    monkeypatch.setitem(app.config, "STORY_IMAGE_MAX_BYTES", 60_000)
    project = make.project()
    login(make.founder_of(project))
    big = photo(3000, 3000, fmt="PNG", color=(1, 2, 3))
    noisy = Image.frombytes("RGB", (300, 300), random.Random(7).randbytes(300 * 300 * 3))  # does not compress
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    too_large = add_on_the_page(client, project, out.getvalue(), name="noise.png", mimetype="image/png")
    assert too_large.status_code == 422
    assert "The file is too large: at most 0.0572 MB." in too_large.get_data(as_text=True)
    assert add_on_the_page(client, project, big, name="one.png").status_code == 302
    assert add_on_the_page(client, project, photo(100, 100), name="two.jpg").status_code == 302
    third = add_on_the_page(client, project, photo(100, 100), name="three.jpg")
    assert third.status_code == 422
    assert "A campaign can have at most 2 story images." in third.get_data(as_text=True)


def test_a_drafts_images_are_its_founders_until_it_goes_live(client, make, login):
    project = make.approved_project()
    founder = make.founder_of(project)
    login(founder)
    add_on_the_page(client, project, photo(640, 480))
    [snippet] = snippets_on(client.get(f"/projects/{project.id}/edit").get_data(as_text=True))
    url = SNIPPET.search(snippet).group(1)
    basics.update_project(founder, project, {"description": f"Our workshop:\n\n{snippet}\n\nhttps://youtu.be/abc123"})
    make.db.session.commit()

    stranger = make.user()
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get(url).status_code == 404  # approved, not yet live: not public
    login(stranger)
    assert client.get(f"/projects/{project.id}/edit").status_code == 404
    assert add_on_the_page_as_stranger(client, project).status_code in (400, 404)
    campaigns.launch(founder, project, _deadline())
    make.db.session.commit()
    client.post("/account/logout", data={"csrf_token": csrf_token(client, "/")})
    page = client.get(f"/p/{project.slug}").get_data(as_text=True)
    assert f'src="{url}"' in page
    assert 'class="video-card"' in page and "iframe" not in page
    assert client.get(url).status_code == 200


def add_on_the_page_as_stranger(client, project):
    return client.post(
        f"/projects/{project.id}/images",
        data={"image": (io.BytesIO(photo(50, 50)), "x.jpg", "image/jpeg"), "csrf_token": csrf_token(client, "/")},
        content_type="multipart/form-data",
    )


def _deadline():
    from datetime import timedelta

    from crowdfund.models import utcnow

    return utcnow() + timedelta(days=20)


def test_a_live_campaign_takes_new_images_and_an_ended_one_does_not(client, make, login):
    project = make.live_project()
    founder = make.founder_of(project)
    login(founder)
    assert add_on_the_page(client, project, photo(200, 100)).status_code == 302
    campaigns.cancel(founder, project, "The supplier closed.")
    make.db.session.commit()
    refused = add_on_the_page(client, project, photo(200, 100))
    assert refused.status_code == 302
    editor = client.get(f"/projects/{project.id}/edit").get_data(as_text=True)
    assert "This project cannot be edited now." in editor
    assert "Add the image" not in editor
    assert len(snippets_on(editor)) == 1  # the image it had stays listed
