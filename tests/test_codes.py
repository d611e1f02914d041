"""Thai tax IDs and system-issued customer codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.core.thai import normalise_tax_id, tax_id_is_valid, tax_id_with_check_digit
from accord.customers.services import customer_code_format, customer_code_is_valid


def test_known_tax_id_is_valid():
    # check digit: s = sum(d * (13 - i)) over the first 12 digits, then (11 - s % 11) % 10
    assert tax_id_with_check_digit("099400016566") == "0994000165668"
    assert tax_id_with_check_digit("010553600001") == "0105536000011"
    assert tax_id_is_valid("0994000165668")
    assert not tax_id_is_valid("0994000165667")
    assert not tax_id_is_valid("099400016566")
    assert not tax_id_is_valid("09940001656688")
    assert not tax_id_is_valid("09940001656A8")


def test_tax_id_normalisation_strips_what_people_type():
    assert normalise_tax_id("0-1055-36000-01-3") == "0105536000013"
    assert normalise_tax_id(" 0105536000013 ") == "0105536000013"


@given(st.integers(min_value=0, max_value=10**12 - 1), st.integers(1, 9))
def test_tax_id_with_another_check_digit_is_invalid(body, delta):
    valid = tax_id_with_check_digit(f"{body:012d}")
    assert tax_id_is_valid(valid)
    assert not tax_id_is_valid(valid[:12] + str((int(valid[12]) + delta) % 10))


def test_customer_code_shape():
    code = customer_code_format(1)
    assert code == "C000000013"
    assert customer_code_is_valid(code)
    assert customer_code_is_valid(code.lower())


@given(st.integers(min_value=1, max_value=10**8 - 1), st.data())
def test_customer_code_with_one_character_changed_added_or_removed_is_invalid(number, data):
    code = customer_code_format(number)
    assert customer_code_is_valid(code)
    position = data.draw(st.integers(1, len(code) - 1))
    digit = data.draw(st.sampled_from("0123456789"))
    changed = code[:position] + digit + code[position + 1 :]
    if changed != code:
        assert not customer_code_is_valid(changed)
    assert not customer_code_is_valid(code[:position] + digit + code[position:])  # added
    assert not customer_code_is_valid(code[:position] + code[position + 1 :])  # removed


@given(st.integers(min_value=1, max_value=10**8 - 1), st.integers(1, 8))
def test_customer_code_adjacent_transposition_is_invalid(number, position):
    code = customer_code_format(number)
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    if swapped != code:
        assert not customer_code_is_valid(swapped)


@pytest.mark.parametrize("bad", ["", "C", "X000000013", "C00000001", "C0000000133", "C00000001x"])
def test_malformed_customer_codes(bad):
    assert not customer_code_is_valid(bad)
