"""Real, readable PDF documents for the demo's equity offerings, laid out by domain/pdf."""

from ..domain import pdf


def document(title, sections):
    """A PDF with `title` and `sections` [(heading, [paragraph lines])]."""
    blocks = []
    for heading, lines in sections:
        blocks.append(pdf.Block("heading", heading))
        blocks.extend(pdf.Block("text", line) for line in lines)
    return pdf.render(title, blocks)


def business_plan(firm, project_title, lines):
    return document(
        f"{firm}: business plan",
        [
            ("The offering", [f"{project_title}.", *lines]),
            ("Market and plan", ["Who buys from us, and why they come back.", "How the money raised will be spent."]),
        ],
    )


def financial_statements(firm, revenue, profit, currency):
    return document(
        f"{firm}: financial statements",
        [
            (
                "Income statement (last financial year, unaudited)",
                [
                    f"Revenue: {revenue} {currency}",
                    f"Net profit: {profit} {currency}",
                    "Prepared by the firm's directors.",
                ],
            ),
            (
                "Balance sheet",
                ["No borrowing beyond a trade overdraft.", "Cash at the year end covers six months of costs."],
            ),
        ],
    )
