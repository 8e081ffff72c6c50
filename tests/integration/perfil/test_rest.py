"""perfil (:6000) against the real running services: after a random workload through the REST APIs of
clientes, cuentas and transacciones, every profile equals what the owning services say."""

import random
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import eventually
from tests.integration.perfil.conftest import Bank

LIST_LIMIT = 500  # the largest limit perfil's transaction list takes


def differences(truth: dict[str, Any], perfil: dict[str, Any], listed: dict[str, Any]) -> list[str]:
    """Every way the profile disagrees with the owning services (empty when it matches)."""
    out: list[str] = []
    expected, got = truth["cliente"], perfil["cliente"]
    for field in ("cliente_id", "nombre", "apellido", "email", "telefono", "estado"):
        if expected[field] != got[field]:
            out.append(f"cliente.{field}: {got[field]!r} != {expected[field]!r}")
    if [d["numero_documento"] for d in expected["documentos"]] != [d["numero_documento"] for d in got["documentos"]]:
        out.append("documentos differ")

    def cuenta_key(c: dict[str, Any]) -> tuple[Any, ...]:
        return (c["cuenta_id"], c["numero_cuenta"], Decimal(c["saldo"]), c["moneda"], c["estado"])

    want_cuentas = sorted(cuenta_key(c) for c in truth["cuentas"])
    got_cuentas = sorted(cuenta_key(c) for c in perfil["cuentas"])
    if want_cuentas != got_cuentas:
        out.append(f"cuentas {got_cuentas} != {want_cuentas}")
    patrimonio: dict[str, Decimal] = {}
    for c in truth["cuentas"]:
        patrimonio[c["moneda"]] = patrimonio.get(c["moneda"], Decimal(0)) + Decimal(c["saldo"])
    resumen = perfil["resumen_financiero"]
    if {m: Decimal(v) for m, v in resumen["patrimonio_por_moneda"].items()} != patrimonio:
        out.append(f"patrimonio_por_moneda {resumen['patrimonio_por_moneda']} != {patrimonio}")
    if Decimal(resumen["patrimonio_total"]) != patrimonio.get("PEN", Decimal(0)):
        out.append(f"patrimonio_total {resumen['patrimonio_total']} != the PEN sum {patrimonio.get('PEN')}")
    if resumen["total_cuentas"] != len(truth["cuentas"]):
        out.append("total_cuentas")
    if resumen["cuentas_activas"] != sum(1 for c in truth["cuentas"] if c["estado"] == "activa"):
        out.append("cuentas_activas")

    trxs = truth["transacciones"]
    newest = max((t["fecha"] for t in trxs.values()), key=datetime.fromisoformat, default=None)
    if (resumen["ultima_actividad"] and datetime.fromisoformat(resumen["ultima_actividad"])) != (
        newest and datetime.fromisoformat(newest)
    ):
        out.append(f"ultima_actividad {resumen['ultima_actividad']} != the newest transaction's fecha {newest}")
    if resumen["total_transacciones"] != len(trxs) or listed["total_transacciones"] != len(trxs):
        out.append(
            f"total_transacciones {resumen['total_transacciones']}/{listed['total_transacciones']} != {len(trxs)}"
        )
    got_trx = {t["transaccionId"]: t for t in listed["transacciones"]}
    # The listing stops at its limit: past it, what it leaves out must be the oldest transactions, none newer than
    # the last one it shows.
    capped = len(trxs) > listed["transacciones_mostradas"] == len(listed["transacciones"]) == LIST_LIMIT
    oldest_shown = min((datetime.fromisoformat(t["fecha"]) for t in listed["transacciones"]), default=None)
    for trx_id, t in trxs.items():
        mine = got_trx.get(trx_id)
        if mine is None:
            if capped and oldest_shown is not None and datetime.fromisoformat(t["fecha"]) <= oldest_shown:
                continue
            out.append(f"transaction {trx_id} ({t['tipo']} {t['estado']}) missing")
        elif (mine["estado"], Decimal(mine["monto"]), mine["tipo"]) != (t["estado"], Decimal(t["monto"]), t["tipo"]):
            out.append(f"transaction {trx_id}: {mine} != {t}")
    out += [f"transaction {i} unknown to transacciones" for i in set(got_trx) - set(trxs)]
    recientes = [t["transaccionId"] for t in perfil["transacciones_recientes"]]
    if recientes != [t["transaccionId"] for t in listed["transacciones"]][:50]:
        out.append("transacciones_recientes is not the newest-first head of the list")
    numeros = {c["numero_cuenta"] for c in truth["cuentas"]}
    out += [
        f"transaction {t['transaccionId']} shows numero_cuenta {t['numero_cuenta']}"
        for t in perfil["transacciones_recientes"]
        if t["numero_cuenta"] is not None and t["numero_cuenta"] not in numeros
    ]
    return out


async def compare(bank: Bank, cliente_id: int) -> list[str]:
    perfil = await bank.perfil.get(f"/api/clientes/{cliente_id}/perfil-completo")
    if perfil.status_code != 200:
        return [f"perfil answered {perfil.status_code}"]
    listed = await bank.perfil.get(f"/api/clientes/{cliente_id}/transacciones", params={"limit": LIST_LIMIT})
    return differences(await bank.truth(cliente_id), perfil.json(), listed.json())


async def test_after_a_random_workload_every_profile_equals_what_the_owning_services_say(bank: Bank) -> None:
    rnd = random.Random(uuid.uuid4().int)
    clientes = [await bank.nuevo_cliente() for _ in range(5)]
    cuentas: list[dict[str, Any]] = []
    for i, cliente in enumerate(clientes):
        for k in range(1 + (i % 2)):
            moneda = "USD" if (i, k) == (1, 1) else "PEN"
            cuentas.append(await bank.abrir_cuenta(cliente["cliente_id"], f"{rnd.randint(0, 400)}.00", moneda))
    pen = [c for c in cuentas if c["moneda"] == "PEN"]

    ids: list[str] = []
    for _ in range(24):
        kind = rnd.choice(["DEPOSITO", "RETIRO", "TRANSFERENCIA", "TRANSFERENCIA", "PAGO_SERVICIO", "VENTANILLA"])
        monto = f"{rnd.randint(1, 300)}.{rnd.randint(0, 99):02d}"
        if kind == "VENTANILLA":  # a teller deposit: a SaldoActualizado without a transaction
            c = rnd.choice(cuentas)
            r = await bank.cuentas.patch(
                f"/cuentas/{c['cuenta_id']}/saldo", json={"monto": monto, "operacion": "deposito"}
            )
            assert r.status_code == 200, r.text
        elif kind == "DEPOSITO":
            c = rnd.choice(cuentas)
            ids.append(
                await bank.transaccion(
                    {"tipo": kind, "monto": monto, "moneda": c["moneda"], "cuentaDestinoId": c["cuenta_id"]}
                )
            )
        elif kind in ("RETIRO", "PAGO_SERVICIO"):  # may fail for lack of funds: a FALLIDA to show
            c = rnd.choice(cuentas)
            ids.append(
                await bank.transaccion(
                    {"tipo": kind, "monto": monto, "moneda": c["moneda"], "cuentaOrigenId": c["cuenta_id"]}
                )
            )
        else:
            origen, destino = rnd.sample(pen, 2)
            body = {"tipo": kind, "monto": monto, "moneda": "PEN"}
            ids.append(
                await bank.transaccion(
                    body | {"cuentaOrigenId": origen["cuenta_id"], "cuentaDestinoId": destino["cuenta_id"]}
                )
            )

    updated = clientes[0]["cliente_id"]
    r = await bank.clientes.put(f"/clientes/{updated}", json={"nombre": "Renombrada", "telefono": None})
    assert r.status_code == 200, r.text
    r = await bank.cuentas.patch(f"/cuentas/{cuentas[-1]['cuenta_id']}/estado", json={"estado": "bloqueada"})
    assert r.status_code == 200, r.text
    await bank.wait_final(ids)

    for cliente in clientes:
        cliente_id = cliente["cliente_id"]

        async def matches(cliente_id: int = cliente_id) -> bool:
            return not await compare(bank, cliente_id)

        try:
            await eventually(matches, timeout=30, interval=0.3, what=f"profile of cliente {cliente_id}")
        except AssertionError:
            raise AssertionError(f"cliente {cliente_id}: {await compare(bank, cliente_id)}") from None


async def test_a_deleted_cliente_has_no_profile_and_is_not_found_by_search(bank: Bank) -> None:
    cliente = await bank.nuevo_cliente()
    cliente_id = cliente["cliente_id"]

    async def shown() -> bool:
        return (await bank.perfil.get(f"/api/clientes/{cliente_id}/perfil-completo")).status_code == 200

    await eventually(shown, timeout=30, what="the new profile")
    r = await bank.clientes.delete(f"/clientes/{cliente_id}")
    assert r.status_code == 200, r.text

    async def gone() -> bool:
        return (await bank.perfil.get(f"/cliente/{cliente_id}/completo")).status_code == 404

    await eventually(gone, timeout=30, what="the profile gone after ClienteEliminado")
    found = (await bank.perfil.get("/api/clientes/buscar", params={"q": cliente["email"]})).json()
    assert found["total_resultados"] == 0


async def test_search_finds_a_cliente_by_email_document_and_account_number(bank: Bank) -> None:
    cliente = await bank.nuevo_cliente(nombre="Buscable")
    cuenta = await bank.abrir_cuenta(cliente["cliente_id"], "10.00", "PEN")
    queries = [
        cliente["email"].upper(),
        cliente["documentos"][0]["numero_documento"],
        cuenta["numero_cuenta"],
        f"buscable {cliente['apellido'].split()[-1]}",
    ]
    for q in queries:

        async def found(q: str = q) -> dict[str, Any] | None:
            r = await bank.perfil.get("/api/clientes/buscar", params={"q": q})
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body if [c["cliente_id"] for c in body["resultados"]] == [cliente["cliente_id"]] else None

        body = await eventually(found, timeout=30, what=f"search {q!r}")
        assert body["query"] == q
        assert body["total_resultados"] == 1


async def test_answers_say_how_fresh_the_view_is(bank: Bank) -> None:
    cliente = await bank.nuevo_cliente()

    async def shown() -> httpx.Response | None:
        r = await bank.perfil.get(f"/api/clientes/{cliente['cliente_id']}/perfil-completo")
        return r if r.status_code == 200 else None

    r = await eventually(shown, timeout=30, what="the new profile")
    assert float(r.headers["X-View-Lag"]) >= 0
    offsets = dict(part.split("=") for part in r.headers["X-View-Offsets"].split(","))
    assert "bank.clientes.v1:0" in offsets


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/clientes/999999999999/perfil-completo", 404),
        ("/cliente/999999999999/completo", 404),
        ("/api/clientes/999999999999/transacciones", 404),
        ("/api/clientes/abc/perfil-completo", 422),
        ("/api/clientes/0/perfil-completo", 422),
        ("/api/clientes/99999999999999999999999/perfil-completo", 422),
        ("/api/clientes/1/transacciones?limit=0", 422),
        ("/api/clientes/1/transacciones?limit=501", 422),
        ("/api/clientes/buscar", 422),
        ("/api/clientes/buscar?q=", 422),
        ("/api/clientes/buscar?q=%20%20", 422),
        ("/api/clientes/buscar?q=" + "x" * 201, 422),
        ("/api/clientes/buscar?q=ana&limit=501", 422),
        ("/api/clientes/buscar?q=ana&skip=-1", 422),
        ("/api/clientes/buscar?q=%00%25_%5C", 200),
    ],
)
async def test_bad_input_is_a_4xx_naming_the_problem_never_a_500(bank: Bank, path: str, status: int) -> None:
    r = await bank.perfil.get(path)
    assert r.status_code == status, r.text
    if status == 422:
        assert r.json()["detail"][0]["loc"]
    if status == 404:
        assert "detail" in r.json()


async def test_health_probes_the_store_and_kafka(bank: Bank) -> None:
    r = await bank.perfil.get("/health")
    body = r.json()
    assert r.status_code == 200
    assert (body["status"], body["database"], body["kafka"]) == ("healthy", "connected", "connected")
