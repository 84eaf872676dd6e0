"""Canonical JSON (api.md, Certificates and Audit trail): the exact bytes signatures and hashes cover."""
import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest

from certify.domain.canonical import canonical_json, sha256_hex


def test_whole_decimal_is_written_as_an_integer():
    assert canonical_json(Decimal("10000.0")) == b"10000"
    assert canonical_json({"quantity_kg": Decimal("10000.0000")}) == b'{"quantity_kg":10000}'


def test_decimal_loses_trailing_zeros():
    assert canonical_json(Decimal("93.75770")) == b"93.7577"


def test_decimal_is_written_with_at_most_four_places():
    assert canonical_json(Decimal("12.345678")) == b"12.3457"


def test_whole_float_is_written_as_an_integer():
    assert canonical_json(10000.0) == b"10000"
    assert canonical_json([0.0, -3.0, 2.5]) == b"[0,-3,2.5]"


def test_korean_is_not_escaped():
    encoded = canonical_json({"name": "한빛리사이클링"})
    assert encoded == '{"name":"한빛리사이클링"}'.encode("utf-8")
    assert b"\\u" not in encoded


def test_keys_are_sorted_at_every_level_and_there_is_no_whitespace():
    value = {"b": 1, "a": {"z": [1, 2], "c": None}, "ä": True}
    assert canonical_json(value) == b'{"a":{"c":null,"z":[1,2]},"b":1,"\xc3\xa4":true}'


def test_equals_the_api_md_byte_rule_for_plain_json():
    certificate = {"number": "KR-RM-2026-000007", "company": {"name": "한빛 & <Co>"}, "quantity_kg": 10000,
                   "recycled_content_pct": 93.7577, "approved_by": [5, 9], "documents": []}
    rule = json.dumps(certificate, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert canonical_json(certificate) == rule


def test_booleans_stay_booleans():
    assert canonical_json([True, False, 1, 0]) == b"[true,false,1,0]"


def test_tuples_are_arrays():
    assert canonical_json({"a": (1, "x")}) == b'{"a":[1,"x"]}'


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity"),
                                   {"a": [float("nan")]}])
def test_nan_and_infinity_are_refused(value):
    with pytest.raises(ValueError):
        canonical_json(value)


@pytest.mark.parametrize("value", [dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone.utc),
                                   {"issued_at": dt.datetime(2026, 3, 1)}])
def test_dates_must_arrive_as_strings(value):
    with pytest.raises(TypeError):
        canonical_json(value)


def test_non_string_keys_are_refused():
    with pytest.raises(TypeError):
        canonical_json({2: "b", 10: "a"})


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object()])
def test_values_that_are_not_json_data_are_refused(value):
    with pytest.raises(TypeError):
        canonical_json(value)


def test_sha256_hex_is_lowercase_hex_of_the_bytes():
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert sha256_hex(canonical_json({"a": 1})) == hashlib.sha256(b'{"a":1}').hexdigest()
