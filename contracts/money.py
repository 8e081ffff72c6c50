"""Money and currency types: exact Decimal amounts with two decimals, serialized as decimal strings.

Two families: `Money`/`PositiveMoney` read our own events and rows (tolerant: whatever a Decimal of at most
2 decimals and 13 integer digits is), and `MoneyIn`/`PositiveMoneyIn`/`NonNegativeMoneyIn` read requests,
which must also be written in the one plain grammar below.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

Moneda = Literal["PEN", "USD", "EUR"]
MONEDAS: tuple[Moneda, ...] = ("PEN", "USD", "EUR")

CENT = Decimal("0.01")
MAX_INTEGER_DIGITS = 13  # DECIMAL(15,2) in SQL
# The per-account balance ceiling, and so the largest amount: the largest value a DECIMAL(15,2) column holds.
# Every credit is checked against it under the account's row lock (a teller deposit gets 409, a saga credit a
# MovimientoRechazado SALDO_EXCEDIDO), so the column can never overflow; an amount above it could never be credited
# to any account, so requests refuse it outright (422). A lower ceiling would leave headroom but refuse amounts the
# original system accepted (13 integer digits).
MAX_BALANCE: Final = Decimal("9999999999999.99")

# A request amount: ASCII digits, optionally '.' and one or two decimals. A leading '-' passes the grammar only
# so that the sign rule (> 0, >= 0) can say what is wrong with it.
_GRAMMAR = re.compile(r"-?[0-9]+(?:\.[0-9]{1,2})?")
_DIGITS = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_PLAIN = "must be a plain amount: ASCII digits, optionally '.' and at most 2 decimals (no sign, spaces or exponent)"


def to_money(value: Decimal) -> Decimal:
    """Quantize to cents, refusing (not rounding) anything finer and anything too large."""
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if abs(value) > MAX_BALANCE:
        raise ValueError(f"must be at most {MAX_BALANCE} (the largest balance an account may hold)")
    try:
        cents = value.quantize(CENT)
    except InvalidOperation:
        raise ValueError("must be a plain amount") from None
    if cents != value:
        raise ValueError("must have at most 2 decimals")
    return cents


def money_text(value: Any) -> Any:
    """A request amount as its exact text, refusing what is not written in the plain grammar.

    A JSON number arrives as an int or a float: a float is judged by the text it was written as when the JSON
    parser kept it (`JsonFloat.raw`, see services.platform.json_body), else by its shortest repr, so 1e-400
    (which a float reads as 0.0) and 1.0E+2 are refused, and 5.10 is 5.10.
    """
    if isinstance(value, bool):
        raise ValueError("must be an amount, not a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = getattr(value, "raw", None) or repr(value)
    if isinstance(value, Decimal):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("must be an amount: a decimal string or a number")
    if _GRAMMAR.fullmatch(value):
        return value
    if _DIGITS.fullmatch(value):
        raise ValueError("must have at most 2 decimals")
    raise ValueError(_PLAIN)


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


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must be greater than or equal to 0")
    return abs(value)  # "-0.00" is accepted as zero, and answered as "0.00"


PositiveMoney = Annotated[Money, AfterValidator(_positive)]
"""An amount to move: strictly positive."""

MoneyIn = Annotated[Money, BeforeValidator(money_text)]
"""A request amount in the plain grammar (the sign is left to the field's rule)."""

PositiveMoneyIn = Annotated[MoneyIn, AfterValidator(_positive)]
"""A request amount to move: plain grammar, > 0, at most MAX_BALANCE."""

NonNegativeMoneyIn = Annotated[MoneyIn, AfterValidator(_not_negative)]
"""A request balance (e.g. an opening saldo): plain grammar, >= 0, at most MAX_BALANCE."""
