"""Markdown written by founders, rendered to HTML that is safe to show to anyone.

`markdown` turns the text into HTML; `nh3` (ammonia) then keeps only an allowlist of
tags and attributes, so no script, event handler, style or `javascript:` URL survives,
whatever the founder typed (raw HTML in Markdown included).

The story may also show images, but only those uploaded to us for a story (`STORY_IMAGE_URL`):
no other source survives, so a story never makes a reader's browser fetch from elsewhere. A
video link on a line of its own becomes a link card (`video_links.py`).
"""

import re

import markdown
import nh3

from .video_links import link_cards

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "del",
    "blockquote",
    "code",
    "pre",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "a",
    "abbr",
    "sub",
    "sup",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "caption",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Where story images are served (web/projects/story_images.py): a random name and our extension.
STORY_IMAGE_PREFIX = "/story-images/"
STORY_IMAGE_URL = re.compile(r"/story-images/[A-Za-z0-9_-]{16,64}\.(?:jpg|png)")
IMAGE_ATTRIBUTES = {"src", "alt", "title"}
_IMAGE_WITHOUT_SOURCE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
_EMPTY_PARAGRAPH = re.compile(r"<p>\s*</p>\n?")


def _only_our_images(element, attribute, value):
    if element == "img" and attribute == "src":
        return value if STORY_IMAGE_URL.fullmatch(value) else None
    return value


def render_markdown(text, *, story_images=False):
    """Sanitised HTML for the Markdown `text` (an empty string for no text).
    `story_images`: keep images whose source is a story image of ours (a campaign's story)."""
    if not text or not text.strip():
        return ""
    html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    tags, attributes = ALLOWED_TAGS, ALLOWED_ATTRIBUTES
    if story_images:
        tags, attributes = tags | {"img"}, {**attributes, "img": IMAGE_ATTRIBUTES}
    clean = nh3.clean(
        html,
        tags=tags,
        attributes=attributes,
        attribute_filter=_only_our_images,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    if story_images:
        # An image whose source was not ours: nothing to show, not even an empty paragraph.
        clean = _EMPTY_PARAGRAPH.sub("", _IMAGE_WITHOUT_SOURCE.sub("", clean))
    return link_cards(clean)
