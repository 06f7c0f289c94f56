"""Story media in the browser: the founder adds an image and a video link to the story on the
editor page; a reader sees the image (served by us) and a link card (no embedded player)."""

import re

from tests.browser.images import gradient_png

VIDEO = "https://www.youtube.com/watch?v=lamp123"
ALT = "The workshop bench"


def add_story_media(page):
    """On the editor page of a draft: upload, copy the Markdown shown, paste it into the story."""
    content = gradient_png(1200, 500, start=(120, 53, 15), end=(253, 230, 138))
    page.get_by_label("Story image").set_input_files({"name": "bench.png", "mimeType": "image/png", "buffer": content})
    page.get_by_role("button", name="Add the image").click()
    assert page.get_by_text("The image is added. Paste its Markdown into the description").is_visible()
    snippet = page.get_by_label("Markdown for image 1").input_value()
    assert re.fullmatch(r"!\[bench\]\(/story-images/[\w-]+\.jpg\)", snippet), snippet
    story = page.get_by_label("Description", exact=True)
    story.fill(f"{story.input_value()}\n\n{snippet.replace('[bench]', f'[{ALT}]')}\n\n{VIDEO}")
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.get_by_text("Saved.").is_visible()


def see_story_media(page):
    """On the campaign page: the image has loaded (re-encoded, 1200 px wide), the video is a card."""
    image = page.locator(f'#story img[alt="{ALT}"]')
    assert image.is_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 1200
    card = page.locator("#story .video-card a")
    assert card.get_attribute("href") == VIDEO
    assert "YouTube" in card.inner_text()
    assert page.locator("iframe").count() == 0
