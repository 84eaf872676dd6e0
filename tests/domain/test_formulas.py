"""The formulas of domain.md, with every number worked out by hand."""
from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest

from certify.domain.formulas import Computed, compute, element_kg, output_element_kg
from certify.domain.numbers import round4

from .builders import make_batch, make_input, make_lot, make_ruleset

D = Decimal


def test_output_element_kg_is_quantity_times_purity_times_element_fraction():
    # 10,000 kg × 99.3 % × 22.330 % = 2,217.369 kg Ni
    computed = compute(make_batch(), make_ruleset())
    assert computed.output_element_kg == D("2217.369")
    assert output_element_kg(D(10000), D("99.3"), D("22.330")) == D("2217.369")


def test_input_element_kg_is_allocated_mass_times_lot_content():
    # 11,000 kg of a lot at 21.5 % Ni = 2,365 kg Ni
    assert compute(make_batch(), make_ruleset()).input_element_kg == D(2365)
    assert element_kg(make_input(11000), "Ni") == D(2365)


def test_input_element_kg_sums_every_input():
    # 11,000 × 21.5 % + 2,000 × 30 % = 2,365 + 600 = 2,965 kg Ni
    batch = make_batch(
        inputs=(
            make_input(11000),
            make_input(2000, lot_id=18, lot_no="IN-2026-0043", element_content_pct={"Ni": D(30)}),
        )
    )
    assert compute(batch, make_ruleset()).input_element_kg == D(2965)


def test_lot_listing_no_content_for_the_element_brings_none():
    lot = make_lot(element_content_pct={"Li": D("3.4"), "Co": D("6.8")})
    assert element_kg(make_input(11000, lot=lot), "Ni") == 0


def test_recovery_pct_is_output_over_input():
    # 2,217.369 / 2,365 × 100 = 93.75767441860465116279069767… %
    computed = compute(make_batch(), make_ruleset())
    assert computed.recovery_pct == D("221736.9") / D(2365)
    assert round4(computed.recovery_pct) == D("93.7577")


def test_full_precision_is_kept_inside():
    computed = compute(make_batch(), make_ruleset())
    assert computed.recovery_pct != round4(computed.recovery_pct)
    assert str(computed.recovery_pct).startswith("93.757674418604651162790697")


def test_all_post_consumer_input_is_one_hundred_percent_recycled():
    computed = compute(make_batch(), make_ruleset())
    assert computed.recycled_content_pct == 100
    assert computed.post_consumer_pct == 100
    assert computed.pre_consumer_pct == 0


def test_mixed_categories_give_post_pre_and_primary_shares_that_add_up():
    # post 5,000 × 20 % = 1,000; pre 2,000 × 25 % = 500; primary 1,000 × 50 % = 500; in 2,000 kg Ni
    batch = make_batch(
        inputs=(
            make_input(5000, lot_id=1, lot_no="POST", category="post_consumer", element_content_pct={"Ni": D(20)}),
            make_input(2000, lot_id=2, lot_no="PRE", category="pre_consumer", element_content_pct={"Ni": D(25)}),
            make_input(1000, lot_id=3, lot_no="PRIM", category="primary", element_content_pct={"Ni": D(50)}),
        )
    )
    computed = compute(batch, make_ruleset())
    assert computed.input_element_kg == D(2000)
    assert computed.post_consumer_pct == D(50)
    assert computed.pre_consumer_pct == D(25)
    assert computed.recycled_content_pct == D(75)
    assert computed.post_consumer_pct + computed.pre_consumer_pct == computed.recycled_content_pct


def test_primary_input_counts_in_input_but_not_in_recycled_share():
    batch = make_batch(inputs=(make_input(11000, category="primary"),))
    computed = compute(batch, make_ruleset())
    assert computed.input_element_kg == D(2365)
    assert computed.recycled_content_pct == 0
    assert computed.post_consumer_pct == 0
    assert computed.pre_consumer_pct == 0


def test_repeating_share_keeps_full_precision_and_rounds_only_for_json():
    # post 1,000 × 10 % = 100 kg of 300 kg Ni in: 33.333… %
    batch = make_batch(
        inputs=(
            make_input(1000, lot_id=1, lot_no="POST", element_content_pct={"Ni": D(10)}),
            make_input(2000, lot_id=2, lot_no="PRIM", category="primary", element_content_pct={"Ni": D(10)}),
        )
    )
    computed = compute(batch, make_ruleset())
    assert computed.recycled_content_pct == D("33.33333333333333333333333333")
    assert computed.as_json()["recycled_content_pct"] == 33.3333


def test_shares_are_null_when_no_input_carries_the_element():
    batch = make_batch(inputs=(make_input(11000, element_content_pct={"Co": D("6.8")}),))
    computed = compute(batch, make_ruleset())
    assert computed == Computed(D("2217.369"), D(0), None, None, None, None)


def test_shares_are_null_when_there_are_no_inputs():
    computed = compute(make_batch(inputs=()), make_ruleset())
    assert computed.input_element_kg == 0
    assert computed.recovery_pct is None
    assert computed.recycled_content_pct is None


def test_zero_quantity_gives_zero_output_and_zero_recovery():
    computed = compute(make_batch(quantity_kg=D(0)), make_ruleset())
    assert computed.output_element_kg == 0
    assert computed.recovery_pct == 0


def test_as_json_is_the_computed_object_of_api_md():
    assert compute(make_batch(), make_ruleset()).as_json() == {
        "output_element_kg": 2217.369,
        "input_element_kg": 2365,
        "recovery_pct": 93.7577,
        "recycled_content_pct": 100,
        "post_consumer_pct": 100,
        "pre_consumer_pct": 0,
    }


def test_as_json_keeps_null_shares_null():
    assert compute(make_batch(inputs=()), make_ruleset()).as_json() == {
        "output_element_kg": 2217.369,
        "input_element_kg": 0,
        "recovery_pct": None,
        "recycled_content_pct": None,
        "post_consumer_pct": None,
        "pre_consumer_pct": None,
    }


def test_computed_is_frozen():
    computed = compute(make_batch(), make_ruleset())
    with pytest.raises(FrozenInstanceError):
        computed.recovery_pct = D(1)  # type: ignore[misc]
