"""Generated PDF documents (the key investment information sheet, the demo's business plans):
a title, headings and paragraphs on A4 pages, laid out by ReportLab.

Chinese text is set in STSong-Light, one of the standard CJK fonts every PDF reader provides,
so nothing is embedded and the files stay small; a paragraph with no character outside
Latin-1 keeps Helvetica.
"""

from dataclasses import dataclass
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

CJK_FONT = "STSong-Light"
MARGIN = 50  # points
SIZES = {"title": 17, "heading": 13, "text": 10}

pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


@dataclass(frozen=True)
class Block:
    """One piece of text: kind "title", "heading" or "text"."""

    kind: str
    text: str


def _style(kind: str, cjk: bool) -> ParagraphStyle:
    size = SIZES[kind]
    bold = kind != "text"
    font = CJK_FONT if cjk else ("Helvetica-Bold" if bold else "Helvetica")
    return ParagraphStyle(
        f"{kind}-{'cjk' if cjk else 'latin'}",
        fontName=font,
        fontSize=size,
        leading=size * 1.45,
        spaceBefore=size * 0.6 if bold else 0,
        spaceAfter=size * 0.4,
        # CJK text has no spaces: let ReportLab break it between any two characters.
        wordWrap="CJK" if cjk else None,
    )


def _needs_cjk(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return True
    return False


def _paragraphs(block: Block) -> list:
    lines = block.text.splitlines() or [""]
    style = _style(block.kind, _needs_cjk(block.text))
    return [Paragraph(escape(line) or "&nbsp;", style) for line in lines]


def render(title: str, blocks: list[Block]) -> bytes:
    """The PDF file of `blocks`, titled `title` (the title also heads the first page)."""
    out = BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author="Crowdfund",
    )
    story: list = []
    for block in [Block("title", title), *blocks]:
        story.extend(_paragraphs(block))
    story.append(Spacer(1, 0))
    document.build(story)
    return out.getvalue()
