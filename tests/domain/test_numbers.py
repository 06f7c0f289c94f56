"""Amounts and whole numbers as people type them: digits 0-9, the page language's separators."""

import pytest

from crowdfund.domain.money import to_minor
from crowdfund.domain.numbers import read_whole


@pytest.mark.parametrize(
    "text, minor",
    [
        ("12.50", 1250),
        ("1,250.50", 125050),
        ("1,250", 125000),
        ("1,234,567.8", 123456780),
        (" 25 ", 2500),
        ("0.5", 50),
        ("1000000", 100000000),
    ],
)
@pytest.mark.parametrize("locale", ["en", "zh"])
def test_amounts_in_english_and_chinese(text, minor, locale):
    assert to_minor(text, "USD", locale) == minor


@pytest.mark.parametrize(
    "text",
    [
        "12,50",  # a comma is not a decimal separator here: once read as 1,250.00 and charged
        "1,25,0",
        "1,2500",
        ",250",
        "1,,250",
        "1.250,50",
        "1e3",
        "1e999999999",
        "１２",
        "٣",
        "²",
        "1_000",
        "12.5.0",
        "NaN",
        "Infinity",
        "0x10",
        "+5",
        "12 50",
        "",
        "abc",
    ],
)
def test_anything_else_is_refused_with_an_example(text):
    with pytest.raises(ValueError) as refused:
        to_minor(text, "USD", "en")
    assert str(refused.value) == "Enter an amount as a number, like 1,250.50."


def test_the_currency_decides_the_decimals():
    assert to_minor("1,250", "JPY", "en") == 1250
    with pytest.raises(ValueError, match="JPY amounts have no decimal places."):
        to_minor("1250.00", "JPY", "en")
    with pytest.raises(ValueError, match="USD amounts have at most 2 decimal places."):
        to_minor("10.005", "USD", "en")
    with pytest.raises(ValueError, match="like 1,250[.]$"):
        to_minor("12,50", "JPY", "en")


def test_sign_and_size():
    with pytest.raises(ValueError, match="cannot be negative"):
        to_minor("-5", "USD", "en")
    with pytest.raises(ValueError, match="too large"):
        to_minor("9" * 5000, "USD", "en")


def test_the_separators_come_from_the_language():
    """German writes 1.250,50: Babel's data, not a hard-coded comma."""
    assert to_minor("1.250,50", "EUR", "de") == 125050
    assert to_minor("12,50", "EUR", "de") == 1250
    with pytest.raises(ValueError, match="like 1.250,50"):
        to_minor("1,250.50", "EUR", "de")
    assert to_minor("1,25,000", "USD", "en_IN") == 12500000  # Indian grouping


def test_amounts_the_program_holds_are_taken_as_they_are():
    from decimal import Decimal

    assert to_minor(Decimal("12.5"), "USD") == 1250
    with pytest.raises(ValueError, match="too large"):
        to_minor(Decimal("1e999999"), "USD")


@pytest.mark.parametrize("text, value", [("12", 12), ("1,000", 1000), ("007", 7), ("-3", -3), ("9" * 40, 10**30)])
def test_whole_numbers(text, value):
    assert read_whole(text, "en") == value


@pytest.mark.parametrize("text", ["12,50", "１２", "1_000", "1.5", "²", "1e3", ""])
def test_what_is_not_a_whole_number(text):
    assert read_whole(text, "en") is None
