"""Money and currency types: exact Decimal amounts with two decimals, serialized as decimal strings."""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

Moneda = Literal["PEN", "USD", "EUR"]
MONEDAS: tuple[Moneda, ...] = ("PEN", "USD", "EUR")

CENT = Decimal("0.01")
MAX_INTEGER_DIGITS = 13  # DECIMAL(15,2) in SQL


def to_money(value: Decimal) -> Decimal:
    """Quantize to cents, refusing (not rounding) anything finer and anything too large."""
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"must have at most {MAX_INTEGER_DIGITS} integer digits")
    try:
        cents = value.quantize(CENT)
    except InvalidOperation:
        raise ValueError("must be a plain amount") from None
    if cents != value:
        raise ValueError("must have at most 2 decimals")
    return cents


def format_money(value: Decimal) -> str:
    """The wire form of an amount: a plain decimal string with exactly two decimals."""
    return f"{value:.2f}"


_MONEY_SCHEMA = {"type": "string", "pattern": r"^-?\d{1,13}\.\d{2}$", "examples": ["1500.00"]}

Money = Annotated[
    Decimal,
    AfterValidator(to_money),
    PlainSerializer(format_money, return_type=str),
    WithJsonSchema(_MONEY_SCHEMA, mode="serialization"),
]
"""Any amount (may be negative, e.g. a ledger delta)."""


def _positive(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


PositiveMoney = Annotated[Money, AfterValidator(_positive)]
"""An amount to move: strictly positive."""
