"""Pure rules of cuentas: account numbers, the estado state machine, balance arithmetic."""

from decimal import Decimal

import pytest

from services.cuentas.domain import (
    SALDO_MAX,
    cambio_de_estado,
    luhn_digit,
    nuevo_numero_cuenta,
    numero_valido,
    saldo_tras,
    validar_eliminacion,
)
from services.cuentas.errors import SaldoExcedido, SaldoInsuficiente, SaldoNoCero, TransicionInvalida


def test_digito_luhn_coincide_con_el_ejemplo_clasico() -> None:
    assert luhn_digit("7992739871") == "3"


def test_numero_de_cuenta_tiene_13_digitos_y_digito_verificador() -> None:
    for _ in range(200):
        numero = nuevo_numero_cuenta()
        assert len(numero) == 13
        assert numero.isdigit()
        assert numero[0] != "0"
        assert numero_valido(numero)


def test_numero_de_cuenta_no_depende_del_reloj_sino_del_azar() -> None:
    assert nuevo_numero_cuenta(lambda _: 0) == "100000000000" + luhn_digit("100000000000")
    assert nuevo_numero_cuenta(lambda n: n - 1) == "999999999999" + luhn_digit("999999999999")


@pytest.mark.parametrize("posicion", range(13))
def test_un_digito_cambiado_invalida_el_numero(posicion: int) -> None:
    numero = nuevo_numero_cuenta()
    otro = str((int(numero[posicion]) + 1) % 10)
    alterado = numero[:posicion] + otro + numero[posicion + 1 :]
    assert not numero_valido(alterado)


@pytest.mark.parametrize("texto", ["", "123", "12345678901234", "abcdefghijklm", "１２３４５６７８９０１２３"])
def test_textos_que_no_son_numeros_de_cuenta(texto: str) -> None:
    assert not numero_valido(texto)


@pytest.mark.parametrize(
    ("actual", "nuevo"),
    [("activa", "bloqueada"), ("bloqueada", "activa"), ("activa", "cerrada"), ("bloqueada", "cerrada")],
)
def test_transiciones_permitidas(actual: str, nuevo: str) -> None:
    assert cambio_de_estado(actual, nuevo, Decimal("0.00"))  # type: ignore[arg-type]


@pytest.mark.parametrize("nuevo", ["activa", "bloqueada"])
def test_cerrada_es_final(nuevo: str) -> None:
    with pytest.raises(TransicionInvalida):
        cambio_de_estado("cerrada", nuevo, Decimal("0.00"))  # type: ignore[arg-type]


def test_cerrar_con_saldo_es_rechazado() -> None:
    with pytest.raises(SaldoNoCero):
        cambio_de_estado("activa", "cerrada", Decimal("0.01"))


def test_mismo_estado_no_es_un_cambio() -> None:
    assert not cambio_de_estado("bloqueada", "bloqueada", Decimal("10.00"))
    assert not cambio_de_estado("cerrada", "cerrada", Decimal("0.00"))


def test_eliminar_solo_con_saldo_cero() -> None:
    validar_eliminacion(Decimal("0.00"))
    with pytest.raises(SaldoNoCero):
        validar_eliminacion(Decimal("5.00"))


def test_retiro_sin_saldo_es_rechazado() -> None:
    assert saldo_tras(Decimal("10.00"), "DEBITO", Decimal("10.00")) == Decimal("0.00")
    with pytest.raises(SaldoInsuficiente):
        saldo_tras(Decimal("10.00"), "DEBITO", Decimal("10.01"))


def test_deposito_mas_alla_de_decimal_15_2_es_rechazado() -> None:
    assert saldo_tras(SALDO_MAX - 1, "CREDITO", Decimal(1)) == SALDO_MAX
    with pytest.raises(SaldoExcedido):
        saldo_tras(SALDO_MAX, "CREDITO", Decimal("0.01"))
