"""Cells for the CSV files people open in a spreadsheet."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """`value` as text a spreadsheet shows as text, never runs as a formula (CSV injection); None is empty."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
