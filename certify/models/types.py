"""Column types shared by the models: exact numbers, UTC timestamps, maps of exact numbers."""
from decimal import Decimal

from sqlalchemy import JSON, DateTime, Numeric
from sqlalchemy.types import TypeDecorator

# Masses (kg) and percentages: exact, with room for six decimals of input.
Mass = Numeric(18, 6)
Percent = Numeric(12, 6)
UtcDateTime = DateTime(timezone=True)


class DecimalMap(TypeDecorator):
    """A {symbol: Decimal} map stored as JSON strings, so values survive exactly (never via float)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return {str(k): str(v) for k, v in value.items()}

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return {k: Decimal(v) for k, v in value.items()}


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a check constraint that keeps an enumerated column within its values."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
