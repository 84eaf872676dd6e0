"""Exact numbers: masses and percentages are Decimal end to end, rounded only at the edges."""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FOUR_PLACES = Decimal("0.0001")


def to_decimal(value) -> Decimal:
    """Converts a JSON number, a string or a Decimal to Decimal without passing through binary float."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise InvalidOperation(f"not a number: {value!r}")
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def round4(value: Decimal) -> Decimal:
    """Rounds half up to at most 4 decimals, the precision of every number the service shows."""
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def json_number(value: Decimal) -> int | float:
    """The JSON form of an exact number: an integer when whole, else a decimal of at most 4 places.

    Python writes such a float with the shortest repr that round-trips (93.7577 → "93.7577"),
    which is what RFC 8785 / ECMAScript produce for the same value, so signed bytes stay canonical.
    """
    rounded = round4(to_decimal(value))
    if rounded == rounded.to_integral_value():
        return int(rounded)
    return float(rounded)
