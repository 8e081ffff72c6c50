"""Reversals: the mirror transaction each tipo gets, and the use case over the in-memory fakes (no store, no broker):
at most once (even concurrently), idempotent, a failed reversal does not use the original up, both records link."""

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from bson import ObjectId

from contracts.comandos import AcreditarCuenta, DebitarCuenta
from services.transacciones import reversion, saga
from services.transacciones.domain import Transaccion, huella, idem_de
from services.transacciones.errors import IdempotencyKeyReused, NoReversible, TransaccionNoEncontrada, YaRevertida
from services.transacciones.ownership import COLLECTION, Ownership
from services.transacciones.repository import Claim
from services.transacciones.reversion_store import Intento
from services.transacciones.schemas import TransaccionCreate
from services.transacciones.service import EnOtraInstancia
from tests.unit.transacciones.fakes import Env, Particiones, environment

CLIENTE = 7


def orden(tipo: str, origen: int | None, destino: int | None, **extra: Any) -> saga.Orden:
    return saga.Orden(
        id=ObjectId(),
        transaccion_id="TRX1",
        tipo=tipo,  # type: ignore[arg-type]
        cuenta_origen_id=origen,
        cuenta_destino_id=destino,
        fecha=datetime.now(UTC),
        **({"monto": Decimal("10.00"), "moneda": "PEN"} | extra),
    )


@pytest.mark.parametrize(
    ("tipo", "origen", "destino", "espejo"),
    [
        ("TRANSFERENCIA", 1, 2, ("TRANSFERENCIA", 2, 1)),
        ("DEPOSITO", None, 2, ("RETIRO", 2, None)),
        ("RETIRO", 1, None, ("DEPOSITO", None, 1)),
        ("PAGO_SERVICIO", 1, None, ("DEPOSITO", None, 1)),
    ],
)
def test_cada_tipo_se_revierte_con_su_espejo(tipo: str, origen: int | None, destino: int | None, espejo: Any) -> None:
    assert reversion.espejo(orden(tipo, origen, destino)) == espejo


@pytest.mark.parametrize("estado", ["PENDIENTE", "FALLIDA", "CANCELADA"])
def test_solo_una_completada_es_reversible_y_el_409_nombra_su_estado(estado: Any) -> None:
    with pytest.raises(NoReversible, match=estado):
        reversion.comprobar(orden("TRANSFERENCIA", 1, 2), estado)


def test_una_reversion_no_se_revierte() -> None:
    with pytest.raises(NoReversible, match="es la reversión de abc"):
        reversion.comprobar(orden("TRANSFERENCIA", 1, 2, reversion_de="abc"), "COMPLETADA")


# -- the use case over fakes ------------------------------------------------------------------------------------


def pedido(**overrides: Any) -> TransaccionCreate:
    body = {"tipo": "TRANSFERENCIA", "monto": "10.00", "moneda": "PEN", "cuentaOrigenId": 1, "cuentaDestinoId": 2}
    return TransaccionCreate.model_validate(body | overrides)


async def responder(env: Env, doc_id: ObjectId, rechazo: str | None = None) -> Transaccion:
    """Answer the saga's steps as cuentas would (all applied; the first refused when `rechazo`) until it ends."""
    while True:
        await env.relay_once()
        doc = env.writer.latest(doc_id)
        assert doc is not None
        if doc.final:
            return doc
        comando = doc.saga.comando_id
        assert comando is not None
        if rechazo is not None:
            await env.reply(doc_id, saga.Rechazado(comando, rechazo, "saldo 0.00, se pidió 10.00", CLIENTE))
            rechazo = None
        else:
            await env.reply(doc_id, saga.Aplicado(comando, CLIENTE, "1234"))


async def completada(env: Env, **overrides: Any) -> Transaccion:
    t = await env.service.crear(pedido(**overrides), None)
    return await responder(env, t.id)


async def revertir(env: Env, original: Transaccion, key: str | None = None, rechazo: str | None = None) -> Transaccion:
    t = await env.service.revertir(str(original.id), key)
    return await responder(env, t.id, rechazo) if not t.final else t


async def test_la_reversion_de_una_transferencia_mueve_el_dinero_de_vuelta_y_ambas_se_enlazan() -> None:
    async with environment(wait_seconds=0.01) as env:
        original = await completada(env)
        rev = await revertir(env, original)
        assert rev.estado == "COMPLETADA"
        assert (rev.tipo, rev.cuenta_origen_id, rev.cuenta_destino_id) == ("TRANSFERENCIA", 2, 1)
        assert rev.reversion_de == str(original.id)
        assert rev.monto == original.monto
        debitos = [c for c in env.broker.commands() if c["transaccion_id"] == rev.transaccion_id]
        assert [(c["cuenta_id"], c["monto"]) for c in debitos] == [(2, "10.00"), (1, "10.00")]  # debit 2, credit 1
        assert await env.service.revertidas([original, rev]) == {original.id: str(rev.id)}
        registrada = json.loads([r for r in env.broker.rows if rev.transaccion_id in r.payload][-1].payload)
        assert registrada["reversion_de"] == str(original.id)


async def test_una_segunda_reversion_es_409_y_nombra_la_primera() -> None:
    async with environment(wait_seconds=0.01) as env:
        original = await completada(env)
        rev = await revertir(env, original)
        with pytest.raises(YaRevertida, match=str(rev.id)):
            await env.service.revertir(str(original.id), None)
        assert len(env.reversiones.intentos) == 1


async def test_dos_reversiones_a_la_vez_crean_exactamente_una() -> None:
    async with environment(wait_seconds=0.01) as env:
        original = await completada(env)
        results = await asyncio.gather(
            *(env.service.revertir(str(original.id), None) for _ in range(5)), return_exceptions=True
        )
        ok = [r for r in results if isinstance(r, Transaccion)]
        refused = [r for r in results if isinstance(r, YaRevertida)]
        assert len(ok) == 1, results
        assert len(refused) == 4, results
        assert all(str(ok[0].id) in str(r) for r in refused)
        assert [d for d in env.repo.docs.values() if d.reversion_de] == [env.repo.docs[ok[0].id]]


async def test_la_misma_idempotency_key_devuelve_la_misma_reversion() -> None:
    async with environment(wait_seconds=0.01) as env:
        original = await completada(env)
        first = await revertir(env, original, key="rev-1")
        again = await env.service.revertir(str(original.id), "rev-1")
        assert again.id == first.id
        assert len([d for d in env.repo.docs.values() if d.reversion_de]) == 1
        otra = await completada(env)
        with pytest.raises(IdempotencyKeyReused):
            await env.service.revertir(str(otra.id), "rev-1")


async def test_la_misma_key_a_la_vez_crea_una_sola_reversion() -> None:
    async with environment(wait_seconds=0.01) as env:
        original = await completada(env)
        results = await asyncio.gather(*(env.service.revertir(str(original.id), "k") for _ in range(4)))
        assert len({r.id for r in results}) == 1
        assert len([d for d in env.repo.docs.values() if d.reversion_de]) == 1


async def test_una_reversion_rechazada_no_agota_la_original() -> None:
    async with environment(wait_seconds=0.01) as env:
        original = await completada(env)
        fallida = await revertir(env, original, rechazo="SALDO_INSUFICIENTE")
        assert fallida.estado == "FALLIDA"
        assert (fallida.motivo or "").startswith("SALDO_INSUFICIENTE")
        assert await env.service.revertidas([original]) == {}
        segunda = await revertir(env, original)
        assert segunda.estado == "COMPLETADA"
        assert segunda.id != fallida.id
        assert await env.service.revertidas([original]) == {original.id: str(segunda.id)}
        with pytest.raises(YaRevertida, match=str(segunda.id)):
            await env.service.revertir(str(original.id), None)


async def test_no_se_revierte_una_pendiente_ni_una_reversion_ni_un_id_desconocido() -> None:
    async with environment(wait_seconds=0.01) as env:
        pendiente = await env.service.crear(pedido(), None)
        with pytest.raises(NoReversible, match="PENDIENTE"):
            await env.service.revertir(str(pendiente.id), None)
        original = await completada(env, tipo="DEPOSITO", cuentaOrigenId=None)
        rev = await revertir(env, original)
        assert (rev.tipo, rev.cuenta_origen_id) == ("RETIRO", 2)
        with pytest.raises(NoReversible, match="reversión"):
            await env.service.revertir(str(rev.id), None)
        with pytest.raises(TransaccionNoEncontrada):
            await env.service.revertir(str(ObjectId()), None)
        with pytest.raises(TransaccionNoEncontrada):
            await env.service.revertir("no-es-un-id", None)


async def test_un_intento_reclamado_por_una_peticion_muerta_se_registra_y_cuenta() -> None:
    async with environment(wait_seconds=0.01) as env:
        original = await completada(env)
        muerta = ObjectId()
        await env.reversiones.reclamar(Intento(original.id, 0, muerta))  # its request died before recording it
        env.service.wait_seconds = 0.05
        with pytest.raises(YaRevertida, match=str(muerta)):
            await env.service.revertir(str(original.id), None)
        assert env.repo.docs[muerta].reversion_de == str(original.id)


async def test_un_intento_de_otra_instancia_muerta_se_hereda_con_su_particion() -> None:
    """An attempt claimed at an instance that died before recording it: a request here waits (no 503) until the
    group gives this instance that partition, records the attempt itself and answers that it holds the original."""
    async with environment(wait_seconds=0.01) as env:
        original = await completada(env)
        ownership = Ownership(None, instance="t-2", partitions=6)
        muerta = ObjectId()
        ajena = ownership.partition(muerta)
        ownership.epochs = {(ajena + 1) % 6: 1}
        env.service.ownership = ownership
        await env.reversiones.reclamar(Intento(original.id, 0, muerta))  # claimed at the other instance, which died
        pedido_aqui = asyncio.create_task(env.service.revertir(str(original.id), None))
        await asyncio.sleep(1.5)
        assert not pedido_aqui.done(), "answered before the dead instance's attempt could be recorded"
        ownership.epochs = {**ownership.epochs, ajena: 2}
        with pytest.raises(YaRevertida, match=str(muerta)):
            await asyncio.wait_for(pedido_aqui, 5)
        assert env.repo.docs[muerta].reversion_de == str(original.id)


async def test_el_reintento_de_una_reversion_va_a_la_instancia_que_tomo_su_particion() -> None:
    """A keyed reversal claimed at an instance that then lost the reversal's partition in a rebalance: its retry is
    sent on to the live holder (the only one that may record it) instead of waiting for a take-over into a 503."""
    async with environment(wait_seconds=0.01) as env:
        original = await completada(env)
        particiones = Particiones()
        ownership = Ownership({COLLECTION: particiones}, instance="t-2", partitions=6)  # type: ignore[arg-type]
        reclamada = ObjectId()
        ajena = ownership.partition(reclamada)
        ownership.epochs = {p: 1 for p in range(6) if p != ajena}
        env.service.ownership = ownership
        particiones.rows[ajena] = {
            "_id": ajena,
            "generacion": 3,
            "owner": "t-1",
            "url": "http://t-1:8014",
            "desde": datetime.now(UTC),
        }
        huella_ = huella({"reversionDe": str(original.id)})
        await env.repo.claim_many([Claim(idem_de("rev-9", ""), reclamada, huella_)])
        with pytest.raises(EnOtraInstancia) as otra:
            await asyncio.wait_for(env.service.revertir(str(original.id), "rev-9", reenviable=True), 5)
        assert otra.value.url == "http://t-1:8014"
        assert [d for d in env.repo.docs.values() if d.reversion_de] == []


def test_una_transferencia_fx_se_revierte_a_su_propia_tasa_y_devuelve_el_margen() -> None:
    fx = orden(
        "TRANSFERENCIA",
        1,
        2,
        monto=Decimal("100.00"),
        cotizacion_id="COT1",
        monto_destino=Decimal("26.31"),
        moneda_destino="USD",
        tasa=Decimal("0.26315789"),
        ingreso=Decimal("1.34"),
    )
    reversion.comprobar(fx, "COMPLETADA")  # reversible like any completed transfer
    assert reversion.espejo(fx) == ("TRANSFERENCIA", 2, 1)
    assert reversion.montos(fx) == (Decimal("26.31"), "USD")  # b gives back what it was credited
    assert reversion.cambio(fx) == {
        "cotizacion_id": "COT1",
        "monto_destino": Decimal("100.00"),  # a gets back what it was debited
        "moneda_destino": "PEN",
        "tasa": Decimal("3.80083618"),  # 100.00 / 26.31, shown rounded down
        "ingreso": Decimal("0.00"),
        "ingreso_revertido": Decimal("1.34"),
    }
    plain = orden("TRANSFERENCIA", 1, 2)
    assert (reversion.montos(plain), reversion.cambio(plain)) == ((Decimal("10.00"), "PEN"), {})


def test_el_credito_de_la_reversion_fx_lleva_el_margen_devuelto() -> None:
    rev = orden(
        "TRANSFERENCIA",
        2,
        1,
        monto=Decimal("26.31"),
        moneda="USD",
        reversion_de="abc",
        cotizacion_id="COT1",
        monto_destino=Decimal("100.00"),
        moneda_destino="PEN",
        tasa=Decimal("3.80083618"),
        ingreso=Decimal("0.00"),
        ingreso_revertido=Decimal("1.34"),
    )
    ahora = datetime.now(UTC)
    credito = saga.comando_actual(rev, saga.SagaState(paso="CREDITO", comando_id="c", desde=ahora))
    assert isinstance(credito, AcreditarCuenta)
    assert (credito.cuenta_id, credito.monto, credito.moneda) == (1, Decimal("100.00"), "PEN")
    assert credito.cambio is not None
    assert (credito.cambio.moneda_origen, credito.cambio.monto_origen) == ("USD", Decimal("26.31"))
    assert credito.cambio.ingreso_revertido == Decimal("1.34")
    debito = saga.comando_actual(rev, saga.SagaState(paso="DEBITO", comando_id="d", desde=ahora))
    assert isinstance(debito, DebitarCuenta)
    assert (debito.cuenta_id, debito.monto, debito.moneda) == (2, Decimal("26.31"), "USD")
