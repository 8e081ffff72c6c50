"""Money is exact: two decimals, no rounding, no floats on the wire."""

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from contracts.money import Money, PositiveMoney

money = TypeAdapter(Money)
positive = TypeAdapter(PositiveMoney)


@pytest.mark.parametrize(("raw", "expected"), [("1500", "1500.00"), (12.5, "12.50"), ("0.1", "0.10"), (7, "7.00")])
def test_montos_validos_se_normalizan_a_dos_decimales(raw: object, expected: str) -> None:
    assert money.dump_json(money.validate_python(raw)) == f'"{expected}"'.encode()


@pytest.mark.parametrize("raw", ["1.001", 0.1 + 0.2, "1e13", "nan", "inf", "abc"])
def test_montos_inexactos_o_enormes_son_rechazados(raw: object) -> None:
    with pytest.raises(ValidationError):
        money.validate_python(raw)


@pytest.mark.parametrize("raw", ["0", "-5", "-0.01"])
def test_un_monto_a_mover_debe_ser_positivo(raw: str) -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        positive.validate_python(raw)


def test_trece_digitos_enteros_es_el_maximo() -> None:
    assert money.validate_python("9999999999999.99") == Decimal("9999999999999.99")
    with pytest.raises(ValidationError):
        money.validate_python("10000000000000.00")
