import pytest

from crowdfund.domain.registration_numbers import registration_number_problem, uscc_check_character, uscc_problem
from tests.support.factories import VALID_USCC


@pytest.mark.parametrize("code", VALID_USCC)
def test_real_codes_pass(code):
    assert uscc_problem(code) is None
    assert registration_number_problem("CN", code.lower()) is None  # typed in lower case


def test_every_single_character_typo_in_the_body_is_caught():
    code = VALID_USCC[0]
    for position in range(17):
        for replacement in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if replacement == code[position]:
                continue
            typo = code[:position] + replacement + code[position + 1 :]
            if position in range(2, 8) and not replacement.isdigit():
                continue  # caught by the shape rule instead
            assert uscc_problem(typo) is not None, typo


def test_check_character_zero_case():
    # A body whose weighted sum is divisible by 31 takes "0", not "31".
    body = "0" * 17
    assert uscc_check_character(body) == "0"


@pytest.mark.parametrize(
    "code,reason",
    [
        ("9135010M000100Y43", "18 characters"),
        ("91350100M000100Y4I", "except I, O"),
        ("91AB0100M000100Y43", "region code"),
    ],
)
def test_malformed_codes_say_why(code, reason):
    assert reason in uscc_problem(code)


@pytest.mark.parametrize(
    "country,number,ok",
    [
        ("GB", "01234567", True),
        ("GB", "SC123456", True),
        ("GB", "1234", False),
        ("US", "12-3456789", True),
        ("US", "123456", False),
        ("FR", "732829320", True),
        ("FR", "732829321", False),
        ("DE", "HRB 123456", True),
        ("DE", "123456", False),
        ("BR", "12.345.678/0001-95", True),
        ("BR", "!", False),
    ],
)
def test_other_countries(country, number, ok):
    assert (registration_number_problem(country, number) is None) is ok
