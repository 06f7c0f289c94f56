"""Sanitised HTML (a founder's rendered Markdown) as readable plain text, for the text part of
a mail: paragraphs and list items on their own lines, links as "words (address)", and none
of the Markdown's asterisks, hashes or brackets."""

from html import escape
from html.parser import HTMLParser

BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "table", "tr", "hr"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.links, self.in_pre = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "pre":
            self.in_pre += 1
        if tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(f"[{alt}]")

    def handle_endtag(self, tag):
        if tag == "pre":
            self.in_pre = max(self.in_pre - 1, 0)
        if tag in BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and href.startswith(("http://", "https://", "mailto:")):
                self.parts.append(f" ({href.removeprefix('mailto:')})")

    def handle_data(self, data):
        self.parts.append(data if self.in_pre else data.replace("\n", " "))


def html_to_text(html):
    parser = _Text()
    parser.feed(html or "")
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.parts).split("\n")]
    lines = [line if line.startswith(("- ", "    ")) else " ".join(line.split()) for line in lines]
    text: list[str] = []
    blank = False
    for line in lines:
        if not line:
            blank = bool(text)
            continue
        if blank:
            text.append("")
        text.append(line)
        blank = False
    return "\n".join(text)


def text_to_html(text):
    """Plain text as HTML paragraphs (escaped), for the parts of a mail around sanitised HTML."""
    paragraphs = [part.strip() for part in (text or "").split("\n\n") if part.strip()]
    return "".join("<p>" + escape(part).replace("\n", "<br>\n") + "</p>\n" for part in paragraphs)
