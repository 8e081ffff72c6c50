"""Money is exact: two decimals, no rounding, no floats on the wire."""

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from contracts.money import MAX_BALANCE, Money, NonNegativeMoneyIn, PositiveMoney, PositiveMoneyIn
from services.platform.json_body import JsonFloat

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


# --- the request grammar (MoneyIn and friends) --------------------------------------------------------------

request_positive = TypeAdapter(PositiveMoneyIn)
request_balance = TypeAdapter(NonNegativeMoneyIn)


@st.composite
def valid_amounts(draw: st.DrawFn) -> str:
    """Amounts in the plain grammar, 1 to 13 integer digits, 0 to 2 decimals, > 0."""
    integer = draw(st.integers(min_value=0, max_value=int(MAX_BALANCE)))
    decimals = draw(st.sampled_from(["", "0", "5", "00", "01", "99"]))
    text = f"{integer}.{decimals}" if decimals else str(integer)
    assume(Decimal(text) > 0)
    return text


NON_ASCII_DIGITS = "٠١٢٣٤٥٦٧٨٩۵५৫๕０１５𝟓"  # Arabic-Indic, Persian, Devanagari, Bengali, Thai, fullwidth, math


@st.composite
def near_misses(draw: st.DrawFn) -> str:
    """A valid amount with one mutation a lenient parser (int(), Decimal(), float()) would forgive."""
    text = draw(valid_amounts())
    digit_positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    i = draw(st.sampled_from(digit_positions))
    mutation = draw(st.sampled_from(range(12)))
    if mutation == 0:
        return text[:i] + draw(st.sampled_from(NON_ASCII_DIGITS)) + text[i + 1 :]
    if mutation == 1:
        return text[:i] + "_" + text[i:] if i else text[:1] + "_" + text[1:]
    if mutation == 2:
        return text + draw(st.sampled_from(["e0", "E0", "e-2", "E+2", "e2"]))
    if mutation == 3:
        space = draw(st.sampled_from([" ", "\t", "\n", "\r", "\u00a0", "\u2003"]))
        return draw(st.sampled_from([space + text, text + space, space + text + space]))
    if mutation == 4:
        return "+" + text
    if mutation == 5:
        return (text if "." in text else text + ".") + "0" * (3 - len(text.partition(".")[2]))  # 3 decimals
    if mutation == 6:
        return text.partition(".")[0] + "."  # a dot without decimals
    if mutation == 7:
        return "." + text.replace(".", "")
    if mutation == 8:
        return text.replace(".", ",") if "." in text else text + ",00"
    if mutation == 9:
        return text + "\x00"
    if mutation == 10:
        return f"{int(MAX_BALANCE) + 1 + int(text.partition('.')[0])}.00"  # 14 integer digits
    return text + draw(st.sampled_from(["d", "Infinity", "NaN", "$", "%"]))


@given(valid_amounts())
def test_un_monto_valido_llega_exacto(text: str) -> None:
    assert request_positive.validate_python(text) == Decimal(text)
    assert request_positive.dump_json(request_positive.validate_python(text)) == f'"{Decimal(text):.2f}"'.encode()
    assert request_balance.validate_python(text) == Decimal(text)


@given(near_misses())
def test_un_monto_casi_valido_es_rechazado(text: str) -> None:
    with pytest.raises(ValidationError):
        request_positive.validate_python(text)
    with pytest.raises(ValidationError):
        request_balance.validate_python(text)


@pytest.mark.parametrize(
    "raw", ["٥", "1_000", " 5.00 ", "5.", "+5", "5e-2", "1.0E+2", "5.00\n", "", "-", ".5", True, False, None, [5], {}]
)
def test_los_montos_del_informe_son_rechazados(raw: object) -> None:
    with pytest.raises(ValidationError):
        request_positive.validate_python(raw)


@pytest.mark.parametrize(("raw", "expected"), [(5.1, "5.10"), (12, "12.00"), (0.5, "0.50"), ("007.5", "7.50")])
def test_un_numero_json_vale_si_se_escribe_en_la_misma_gramatica(raw: object, expected: str) -> None:
    assert request_positive.validate_python(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", [0.1 + 0.2, 1e16, 5e-324, float("nan"), float("inf"), 10**13])
def test_un_numero_json_fuera_de_la_gramatica_es_rechazado(raw: object) -> None:
    with pytest.raises(ValidationError):
        request_positive.validate_python(raw)


def test_un_float_que_recuerda_su_texto_se_juzga_por_el_texto() -> None:
    with pytest.raises(ValidationError, match="plain amount"):
        request_balance.validate_python(JsonFloat("1e-400"))  # a float alone would read it as 0.0
    with pytest.raises(ValidationError, match="plain amount"):
        request_positive.validate_python(JsonFloat("1.0E+2"))
    assert request_positive.validate_python(JsonFloat("5.10")) == Decimal("5.10")


def test_un_signo_menos_se_explica_con_la_regla_del_signo() -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        request_positive.validate_python("-5.00")
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        request_balance.validate_python("-5.00")
    assert request_balance.validate_python("-0.00") == Decimal("0.00")


def test_el_limite_se_nombra() -> None:
    with pytest.raises(ValidationError, match=r"at most 9999999999999\.99"):
        request_positive.validate_python("10000000000000")
    assert request_positive.validate_python("9999999999999.99") == MAX_BALANCE


def test_los_eventos_siguen_siendo_tolerantes() -> None:
    # Our events and rows are not requests: what format_money wrote, or a Decimal's own text, still reads.
    assert money.validate_python("-12.50") == Decimal("-12.50")
    assert money.validate_python("1E+2") == Decimal("100.00")
    assert money.validate_python(Decimal("0E-2")) == Decimal("0.00")
