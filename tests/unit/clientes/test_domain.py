"""Pure rules of clientes: document numbers per type, validity dates, emails, text, and the PUT merge."""

from datetime import UTC, date, datetime

import pytest

from services.clientes import domain
from services.clientes.domain import Cambios, Cliente


def _cliente(**overrides: object) -> Cliente:
    base: dict[str, object] = {
        "cliente_id": 7,
        "nombre": "Ana",
        "apellido": "Pérez",
        "email": "ana@example.com",
        "telefono": "987654321",
        "estado": "bloqueado",
        "fecha_registro": datetime(2024, 1, 1, tzinfo=UTC),
    }
    return Cliente(**(base | overrides))  # type: ignore[arg-type]


@pytest.mark.parametrize(("tipo", "numero"), [("DNI", "45678912"), ("RUC", "20123456789")])
def test_dni_y_ruc_validos_se_aceptan(tipo: str, numero: str) -> None:
    assert domain.normalize_numero_documento(tipo, numero) == numero


@pytest.mark.parametrize(
    ("tipo", "numero"),
    [
        ("DNI", "1234567"),  # 7 digits
        ("DNI", "123456789"),  # 9 digits
        ("DNI", "1234567A"),
        ("DNI", "１２３４５６７８"),  # full-width digits are digits to str.isdigit, not to a DNI
        ("RUC", "2012345678"),
        ("RUC", "201234567890"),
        ("RUC", "2012345678X"),
    ],
)
def test_dni_y_ruc_exigen_su_numero_exacto_de_digitos(tipo: str, numero: str) -> None:
    with pytest.raises(ValueError, match="digits"):
        domain.normalize_numero_documento(tipo, numero)


def test_pasaporte_se_guarda_en_mayusculas() -> None:
    assert domain.normalize_numero_documento("Pasaporte", " ab12345 ") == "AB12345"


@pytest.mark.parametrize("numero", ["AB-12", "AB 12", "Ñ1234", "", "   "])
def test_pasaporte_y_carnet_solo_letras_y_digitos(numero: str) -> None:
    with pytest.raises(ValueError):
        domain.normalize_numero_documento("Carnet Extranjeria", numero)


def test_numero_de_documento_de_mas_de_20_caracteres_se_rechaza() -> None:
    with pytest.raises(ValueError, match="20"):
        domain.normalize_numero_documento("Pasaporte", "A" * 21)


def test_vencimiento_debe_ser_posterior_a_emision() -> None:
    domain.check_vigencia(date(2020, 1, 1), date(2030, 1, 1))
    domain.check_vigencia(None, date(2030, 1, 1))
    domain.check_vigencia(date(2020, 1, 1), None)
    with pytest.raises(ValueError, match="fecha_vencimiento"):
        domain.check_vigencia(date(2020, 1, 1), date(2020, 1, 1))
    with pytest.raises(ValueError, match="fecha_vencimiento"):
        domain.check_vigencia(date(2020, 1, 2), date(2020, 1, 1))


def test_email_se_normaliza_el_dominio() -> None:
    assert domain.normalize_email("Ana.Perez@EXAMPLE.com") == "Ana.Perez@example.com"


@pytest.mark.parametrize("email", ["sin-arroba", "a@b", "a@@example.com", "a b@example.com", "a@example.com\x00"])
def test_email_invalido_se_rechaza(email: str) -> None:
    with pytest.raises(ValueError):
        domain.normalize_email(email)


def test_email_de_mas_de_150_caracteres_se_rechaza() -> None:
    with pytest.raises(ValueError):
        domain.normalize_email("a" * 60 + "@" + "b" * 60 + "." + "c" * 40 + ".com")


@pytest.mark.parametrize("text", ["a\x00b", "línea\nnueva", "tab\t", "\ud800"])
def test_texto_con_nul_controles_o_utf8_roto_se_rechaza(text: str) -> None:
    with pytest.raises(ValueError):
        domain.check_text(text)


def test_texto_con_acentos_y_enie_se_acepta() -> None:
    assert domain.check_text("Íñigo Muñoz") == "Íñigo Muñoz"


@pytest.mark.parametrize(("value", "ok"), [(0, False), (-1, False), (1, True), (2**63 - 1, True), (2**63, False)])
def test_solo_ids_que_caben_en_bigint_positivo_pueden_existir(value: int, ok: bool) -> None:
    assert domain.valid_id(value) is ok


def test_put_sin_estado_conserva_el_estado() -> None:
    antes = _cliente(estado="bloqueado")
    despues = domain.apply_cambios(antes, Cambios(nombre="Ana María"))
    assert despues.estado == "bloqueado"
    assert despues.nombre == "Ana María"
    assert despues.telefono == antes.telefono


def test_put_con_telefono_nulo_explicito_lo_borra_y_sin_telefono_lo_conserva() -> None:
    antes = _cliente(telefono="999")
    assert domain.apply_cambios(antes, Cambios(telefono=None, telefono_set=True)).telefono is None
    assert domain.apply_cambios(antes, Cambios()).telefono == "999"


def test_put_sin_cambios_no_cuenta_como_cambio() -> None:
    antes = _cliente()
    assert not domain.changed(antes, domain.apply_cambios(antes, Cambios(nombre="Ana", estado="bloqueado")))
    assert domain.changed(antes, domain.apply_cambios(antes, Cambios(estado="activo")))
    assert domain.changed(antes, domain.apply_cambios(antes, Cambios(email="ANA@example.com")))
