"""The replica of clientes folds the clientes events into (estado, deleted) per cliente."""

from datetime import UTC, datetime

from contracts.clientes import ClienteActualizado, ClienteCreado, ClienteEliminado
from services.cuentas.replica import EstadoReplica, EventoCliente, plegar

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def creado(cliente_id: int, estado: str = "activo") -> ClienteCreado:
    return ClienteCreado(
        cliente_id=cliente_id, nombre="A", apellido="B", email="a@b.pe", estado=estado, fecha_registro=NOW
    )  # type: ignore[arg-type]


def actualizado(cliente_id: int, estado: str) -> ClienteActualizado:
    return ClienteActualizado(cliente_id=cliente_id, nombre="A", apellido="B", email="a@b.pe", estado=estado)  # type: ignore[arg-type]


def test_cliente_creado_aparece_con_su_estado() -> None:
    assert plegar({}, [creado(1), creado(2, "bloqueado")]) == {1: ("activo", False), 2: ("bloqueado", False)}


def test_la_actualizacion_trae_el_estado_completo_aunque_falte_el_alta() -> None:
    assert plegar({}, [actualizado(3, "inactivo")]) == {3: ("inactivo", False)}


def test_los_eventos_se_aplican_en_orden_sobre_la_fila_actual() -> None:
    actual: dict[int, EstadoReplica] = {1: ("activo", False)}
    assert plegar(actual, [actualizado(1, "bloqueado"), actualizado(1, "activo")]) == {1: ("activo", False)}
    eliminado: list[EventoCliente] = [ClienteEliminado(cliente_id=1)]
    assert plegar(actual, eliminado) == {1: ("activo", True)}
    assert plegar(actual, [*eliminado, actualizado(1, "inactivo")]) == {1: ("inactivo", True)}


def test_reaplicar_los_mismos_eventos_da_el_mismo_estado() -> None:
    eventos: list[EventoCliente] = [creado(1), actualizado(1, "bloqueado"), ClienteEliminado(cliente_id=1)]
    once = plegar({}, eventos)
    assert plegar(once, eventos) == once
