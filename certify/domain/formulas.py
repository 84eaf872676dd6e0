"""The mass-balance formulas of domain.md ("Formulas"), exact in Decimal and rounded only for JSON."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from certify.domain.facts import RECYCLED_CATEGORIES, BatchFacts, InputFacts, Ruleset
from certify.domain.numbers import json_number

HUNDRED = Decimal(100)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Computed:
    """What one check run computes for a batch; the percentages are None when no input carries the element."""

    output_element_kg: Decimal
    input_element_kg: Decimal
    recovery_pct: Decimal | None
    recycled_content_pct: Decimal | None
    post_consumer_pct: Decimal | None
    pre_consumer_pct: Decimal | None

    def as_json(self) -> dict[str, int | float | None]:
        """The batch's `computed` object of api.md."""
        return {
            "output_element_kg": json_number(self.output_element_kg),
            "input_element_kg": json_number(self.input_element_kg),
            "recovery_pct": _json_or_none(self.recovery_pct),
            "recycled_content_pct": _json_or_none(self.recycled_content_pct),
            "post_consumer_pct": _json_or_none(self.post_consumer_pct),
            "pre_consumer_pct": _json_or_none(self.pre_consumer_pct),
        }


def _json_or_none(value: Decimal | None) -> int | float | None:
    return None if value is None else json_number(value)


def output_element_kg(quantity_kg: Decimal, purity_pct: Decimal, element_fraction_pct: Decimal) -> Decimal:
    return quantity_kg * purity_pct / HUNDRED * element_fraction_pct / HUNDRED


def element_kg(input_: InputFacts, element: str) -> Decimal:
    """The element mass one input brings; a lot that lists no content for the element brings none."""
    content_pct = input_.lot.element_content_pct.get(element)
    if content_pct is None:
        return ZERO
    return input_.mass_kg * content_pct / HUNDRED


def compute(batch: BatchFacts, ruleset: Ruleset) -> Computed:
    output_kg = output_element_kg(batch.quantity_kg, batch.purity_pct, ruleset.element_fraction_pct)
    kg_by_category = {category: ZERO for category in RECYCLED_CATEGORIES}
    input_kg = ZERO
    for input_ in batch.inputs:
        kg = element_kg(input_, ruleset.element)
        input_kg += kg
        if input_.lot.category in kg_by_category:
            kg_by_category[input_.lot.category] += kg

    if input_kg == 0:
        return Computed(output_kg, input_kg, None, None, None, None)

    def share_pct(kg: Decimal) -> Decimal:
        # Multiplying before dividing leaves the division as the only rounding step.
        return kg * HUNDRED / input_kg

    return Computed(
        output_element_kg=output_kg,
        input_element_kg=input_kg,
        recovery_pct=share_pct(output_kg),
        recycled_content_pct=share_pct(sum(kg_by_category.values(), ZERO)),
        post_consumer_pct=share_pct(kg_by_category["post_consumer"]),
        pre_consumer_pct=share_pct(kg_by_category["pre_consumer"]),
    )
