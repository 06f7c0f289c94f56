"""A video link on a line of its own, shown as a link card.

No player is embedded: no iframe, no script of the video site, so the Content-Security-Policy
stays "only our own host" and a reader's browser talks to the video site only if they click.
The card is built from the sanitised HTML, with every value escaped again here.
"""

import html
import re
from urllib.parse import urlsplit

# Host (and its subdomains) -> the site's name as the card shows it.
VIDEO_SITES = {
    "youtube.com": "YouTube",
    "youtu.be": "YouTube",
    "youtube-nocookie.com": "YouTube",
    "vimeo.com": "Vimeo",
    "bilibili.com": "Bilibili",
    "b23.tv": "Bilibili",
    "youku.com": "Youku",
}
LINK_REL = "noopener noreferrer nofollow"

# A paragraph that is only a link (<https://...>, [title](https://...)) or only a bare URL.
_LONE_LINK = re.compile(r'<p>\s*<a href="([^"]+)"[^>]*>([^<]*)</a>\s*</p>')
_LONE_URL = re.compile(r"<p>\s*(https?://[^\s<]+)\s*</p>")


def video_site(url):
    """The video site's name for `url`, or None when it is not a video link we know."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    for domain, name in VIDEO_SITES.items():
        if host == domain or host.endswith("." + domain):
            return name
    return None


def _card(url, text):
    site = video_site(url)
    if site is None:
        return None
    parts = urlsplit(url)
    # What the reader sees of the address: without the scheme, shortened.
    shown = (parts.hostname.lower().removeprefix("www.") + parts.path).rstrip("/")
    shown += f"?{parts.query}" if parts.query else ""
    shown = shown if len(shown) <= 60 else shown[:59] + "\u2026"
    title = text.strip() if text.strip() and text.strip() != url else site
    return (
        f'<p class="video-card"><a href="{html.escape(url)}" rel="{LINK_REL}">'
        '<span class="video-card-play" aria-hidden="true">\u25b6</span>'
        f'<span class="video-card-text"><strong class="video-card-title">{html.escape(title)}</strong>'
        f'<span class="video-card-host">{html.escape(site)} \u00b7 {html.escape(shown)}</span></span></a></p>'
    )


def link_cards(sanitised_html):
    """`sanitised_html` with each lone video link turned into a card."""

    def from_link(match):
        url, text = html.unescape(match.group(1)), html.unescape(match.group(2))
        return _card(url, text) or match.group(0)

    def from_url(match):
        url = html.unescape(match.group(1))
        return _card(url, url) or match.group(0)

    return _LONE_URL.sub(from_url, _LONE_LINK.sub(from_link, sanitised_html))
