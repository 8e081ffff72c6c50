"""Read-your-writes between instances without a scan: what each instance wrote lately, and when a list must still
scan instead (recientes.py, Ownership.otras)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from bson import ObjectId

from services.transacciones import recientes, reenvio
from services.transacciones.domain import Transaccion
from services.transacciones.listing import Listado
from services.transacciones.ownership import COLLECTION, Ownership
from services.transacciones.repository import Filtro
from services.transacciones.saga import SagaState
from tests.unit.transacciones.fakes import Particiones, environment
from tests.unit.transacciones.test_service import pedido

LEJOS = datetime.now(UTC) - timedelta(hours=1)


def _ownership(**filas: dict[str, Any]) -> tuple[Ownership, Particiones]:
    particiones = Particiones()
    ownership = Ownership({COLLECTION: particiones}, instance="t-2", partitions=3)  # type: ignore[arg-type]
    ownership.epochs = {0: 1}
    particiones.rows = {
        0: {"_id": 0, "owner": "t-2", "url": "http://t-2:8015", "desde": LEJOS},
        1: {"_id": 1, "owner": "t-1", "url": "http://t-1:8014", "desde": LEJOS},
        2: {"_id": 2, "owner": "t-1", "url": "http://t-1:8014", "desde": LEJOS},
    }
    for p, cambios in filas.items():
        # A timedelta is an age taken now, not when pytest collected the parameters (minutes earlier in a full run).
        particiones.rows[int(p[1:])] |= {
            k: datetime.now(UTC) - v if isinstance(v, timedelta) else v for k, v in cambios.items()
        }
    return ownership, particiones


@pytest.fixture
async def pares(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, Any]]:
    """The other instances, answering PATH over a mock transport: `answers[url]` is (status, body), or (status, a
    function of the request that gives the body)."""
    state: dict[str, Any] = {"answers": {}, "asked": [], "params": []}

    def handler(request: httpx.Request) -> httpx.Response:
        state["asked"].append((str(request.url.copy_with(query=None)), request.headers.get("authorization")))
        state["params"].append(dict(request.url.params))
        status, rows = state["answers"].get(f"{request.url.scheme}://{request.url.netloc.decode()}", (503, None))
        return httpx.Response(status, json=rows(request) if callable(rows) else rows)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        monkeypatch.setattr(reenvio, "http", lambda: client)
        yield state


async def test_lo_escrito_queda_a_la_vista_en_su_ultimo_estado_hasta_el_horizonte() -> None:
    async with environment(wait_seconds=0.01) as env:
        hechas = recientes.Recientes(horizon=3600)
        env.writer.subscribe(hechas.on_written)
        t = await env.service.crear(pedido(), "r1")
        (fila,) = hechas.filas()
        assert (fila["_id"], fila["cuenta_origen_id"], fila["cuenta_destino_id"]) == (str(t.id), 1, 2)
        leida = recientes.leida(fila)
        assert leida["_id"] == t.id
        assert leida["fecha"].tzinfo is not None
        viejas = recientes.Recientes(horizon=0)
        viejas.on_written(t)
        viejas.on_written(t.model_copy(update={"id": ObjectId()}))
        assert viejas.filas() == []


async def test_una_lista_de_personal_pregunta_a_las_otras_instancias(pares: dict[str, Any]) -> None:
    ownership, _ = _ownership()
    oid = ObjectId()
    fila = {"_id": str(oid), "fecha": "2026-12-06T10:00:00.123000+00:00", "tipo": "DEPOSITO", "estado": "PENDIENTE"}
    pares["answers"]["http://t-1:8014"] = (200, [fila | {"cuenta_origen_id": None, "cuenta_destino_id": 7}])
    rows = await recientes.Vecinas().de_las_otras(ownership, "Bearer x")
    assert pares["asked"] == [("http://t-1:8014" + recientes.PATH, "Bearer x")]  # once per instance, not partition
    assert rows is not None
    listado = Listado()
    listado.add_scanned(rows)
    assert listado.page(Filtro(cuenta_id=7), 0, 10) == ([oid], 1)


@pytest.mark.parametrize(
    ("filas", "answer", "auth"),
    [
        ({}, (403, {"error": "no"}), "Bearer x"),  # the other instance refuses (or fails): scan
        ({}, (200, []), None),  # no caller credentials to pass on
        ({"p1": {"url": None}}, (200, []), "Bearer x"),  # a holder that cannot be reached
        ({"p2": {"desde": timedelta(0)}}, (200, []), "Bearer x"),  # changed hands within the horizon
        ({"p0": {"desde": timedelta(seconds=5)}}, (200, []), "Bearer x"),  # even to this one
    ],
)
async def test_si_no_se_puede_saber_con_certeza_la_lista_escanea(
    pares: dict[str, Any], filas: dict[str, dict[str, Any]], answer: tuple[int, Any], auth: str | None
) -> None:
    ownership, _ = _ownership(**filas)
    pares["answers"]["http://t-1:8014"] = answer
    assert await recientes.Vecinas().de_las_otras(ownership, auth) is None


async def test_la_lista_usa_lo_preguntado_y_solo_escanea_si_hace_falta(pares: dict[str, Any]) -> None:
    async with environment(wait_seconds=0.01) as env:
        listado = Listado()
        listado.ready = True
        env.service.listado = listado
        ownership, _ = _ownership()
        env.service.ownership = ownership
        esperas: list[str] = []

        async def al_dia() -> bool:  # the listing feed's caught_up
            esperas.append("feed")
            return True

        env.service.al_dia = al_dia
        oid = ObjectId()
        fila = {"_id": str(oid), "fecha": datetime.now(UTC).isoformat(), "tipo": "DEPOSITO", "estado": "PENDIENTE"}
        pares["answers"]["http://t-1:8014"] = (200, [fila | {"cuenta_origen_id": None, "cuenta_destino_id": 3}])
        _, total = await env.service.listar(Filtro(cuenta_id=3), 0, 10, "Bearer x")
        assert total == 1
        assert env.service.read_your_writes == {"peers": 1, "scan": 0}
        assert esperas == [], "the peers answered for what they wrote"
        await env.service.listar(Filtro(cuentas=frozenset({3})), 0, 10, "Bearer x")  # a customer's: scanned
        await env.service.listar(Filtro(), 0, 10, None)
        assert env.service.read_your_writes == {"peers": 1, "scan": 2}
        assert esperas == ["feed", "feed"], "each scan waits for the events of what left the scanned collection"


def test_cada_escritura_lleva_el_numero_siguiente_y_se_pide_lo_posterior() -> None:
    hechas = recientes.Recientes(horizon=3600)
    docs = [_doc() for _ in range(3)]
    for doc in docs:
        hechas.on_written(doc)
    assert [f["_id"] for f in hechas.filas(1)] == [str(docs[1].id), str(docs[2].id)]
    hechas.on_written(docs[0].model_copy(update={"estado": "COMPLETADA"}))  # rewritten: number 4, at the end
    todo = hechas.desde(hechas.instancia, 0)
    assert todo["hasta"] == 4
    assert [f["_id"] for f in todo["filas"]] == [str(d.id) for d in (docs[1], docs[2], docs[0])]
    nuevas = hechas.desde(hechas.instancia, 3)
    assert [(f["_id"], f["estado"]) for f in nuevas["filas"]] == [(str(docs[0].id), "COMPLETADA")]
    assert hechas.desde(hechas.instancia, 4)["filas"] == []
    assert len(hechas.desde("otro-proceso", 4)["filas"]) == 3  # restarted since that number: everything


async def test_las_vecinas_piden_solo_lo_nuevo_y_no_avanzan_si_alguna_falla(pares: dict[str, Any]) -> None:
    ownership, _ = _ownership()
    t1 = recientes.Recientes(horizon=3600)
    pares["answers"]["http://t-1:8014"] = (
        200,
        lambda r: t1.desde(r.url.params["instancia"], int(r.url.params["despues"])),
    )
    vecinas = recientes.Vecinas()
    a, b = _doc(), _doc()
    t1.on_written(a)
    assert [r["_id"] for r in await vecinas.de_las_otras(ownership, "Bearer x") or []] == [a.id]
    t1.on_written(b)
    assert [r["_id"] for r in await vecinas.de_las_otras(ownership, "Bearer x") or []] == [b.id]
    assert pares["params"][-1] == {"instancia": t1.instancia, "despues": "1"}
    assert await vecinas.de_las_otras(ownership, "Bearer x") == []

    pares["answers"]["http://t-1:8014"] = (503, None)  # does not answer: scan, and the number stays
    assert await vecinas.de_las_otras(ownership, "Bearer x") is None
    reiniciada = recientes.Recientes(horizon=3600)  # the peer restarted: new token, numbers from 1 again
    reiniciada.on_written(a)
    pares["answers"]["http://t-1:8014"] = (
        200,
        lambda r: reiniciada.desde(r.url.params["instancia"], int(r.url.params["despues"])),
    )
    assert [r["_id"] for r in await vecinas.de_las_otras(ownership, "Bearer x") or []] == [a.id]
    assert pares["params"][-1] == {"instancia": t1.instancia, "despues": "2"}
    assert [r["_id"] for r in await vecinas.de_las_otras(ownership, "Bearer x") or []] == []
    assert pares["params"][-1] == {"instancia": reiniciada.instancia, "despues": "1"}


def _doc() -> Transaccion:
    now = datetime.now(UTC)
    return Transaccion(
        id=ObjectId(), transaccion_id="TRX1", tipo="DEPOSITO", monto=Decimal("1.00"), moneda="PEN", fecha=now,
        cuenta_destino_id=7, estado="PENDIENTE", idem="t:TRX1", epoch="e", saga=SagaState(paso="DEBITO", desde=now),
        actualizada=now,
    )  # fmt: skip
