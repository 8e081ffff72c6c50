"""Every MS2 endpoint through the balancer (API.md §MS2): the success path and each error the contract names."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from services.cuentas.domain import numero_valido
from tests.integration.cuentas.conftest import Tap, abrir_cuenta, nuevo_cliente_id

Factory = Callable[..., Any]


async def test_tipos_de_cuenta_sembrados(http: httpx.AsyncClient) -> None:
    r = await http.get("/tipos-cuenta")
    assert r.status_code == 200
    by_name = {t["nombre"]: t for t in r.json()}
    expected = {
        "Cuenta Sueldo": ("0.00", "0.00"),
        "Cuenta Free": ("0.00", "0.50"),
        "Cuenta Premium": ("15.00", "1.50"),
        "Cuenta Ahorro": ("5.00", "3.00"),
    }
    for nombre, (costo, tasa) in expected.items():
        tipo = by_name[nombre]
        assert (tipo["costo_mantenimiento"], tipo["tasa_interes"], tipo["estado"]) == (costo, tasa, "activo")
        assert tipo["descripcion"]
    one = await http.get(f"/tipos-cuenta/{by_name['Cuenta Premium']['tipo_cuenta_id']}")
    assert one.json() == by_name["Cuenta Premium"]
    assert (await http.get("/tipos-cuenta/999999")).status_code == 404


async def test_abrir_cuenta(http: httpx.AsyncClient, cliente: int, cuentas_tap: Tap) -> None:
    cuenta = await abrir_cuenta(http, cliente, saldo="1500", moneda="USD", tipo=3)
    assert cuenta["cliente_id"] == cliente
    assert (cuenta["saldo"], cuenta["moneda"], cuenta["estado"]) == ("1500.00", "USD", "activa")
    assert cuenta["tipo_cuenta_nombre"] == "Cuenta Premium"
    assert cuenta["tipo_cuenta_descripcion"]
    assert numero_valido(cuenta["numero_cuenta"])
    assert cuenta["fecha_apertura"].endswith(("Z", "+00:00"))

    detalle = (await http.get(f"/cuentas/{cuenta['cuenta_id']}")).json()
    assert detalle == cuenta | {"costo_mantenimiento": "15.00", "tasa_interes": "1.50"}
    assert (await http.get(f"/cuentas/numero/{cuenta['numero_cuenta']}")).json() == cuenta

    # The opening balance is a ledger movement, announced like every other one.
    [mov] = (await http.get(f"/cuentas/{cuenta['cuenta_id']}/movimientos")).json()
    assert (mov["operacion"], mov["causa"], mov["monto"], mov["saldo_resultante"]) == (
        "CREDITO",
        "APERTURA",
        "1500.00",
        "1500.00",
    )
    [abierta] = await cuentas_tap.wait_for("bank.cuentas.CuentaAbierta.v1", cuenta_id=cuenta["cuenta_id"])
    assert (abierta["saldo"], abierta["numero_cuenta"], abierta["cliente_id"]) == (
        "1500.00",
        cuenta["numero_cuenta"],
        cliente,
    )
    [apertura] = await cuentas_tap.wait_for("bank.cuentas.SaldoActualizado.v1", cuenta_id=cuenta["cuenta_id"])
    assert (apertura["causa"], apertura["movimiento_id"], apertura["saldo"]) == (
        "APERTURA",
        mov["movimiento_id"],
        "1500.00",
    )


async def test_abrir_cuenta_sin_saldo_no_crea_movimientos(cuenta_factory: Factory, http: httpx.AsyncClient) -> None:
    cuenta = await cuenta_factory()
    assert (cuenta["saldo"], cuenta["moneda"]) == ("0.00", "PEN")
    r = await http.get(f"/cuentas/{cuenta['cuenta_id']}/movimientos")
    assert r.json() == []
    assert r.headers["X-Total-Count"] == "0"


async def test_apertura_rechazada(http: httpx.AsyncClient, cliente: int, cuenta_factory: Factory) -> None:
    await cuenta_factory()  # the cliente is in the replica from here on
    unknown = await http.post("/cuentas", json={"cliente_id": nuevo_cliente_id(), "tipo_cuenta_id": 1})
    assert unknown.status_code == 404
    assert "detail" in unknown.json()
    tipo = await http.post("/cuentas", json={"cliente_id": cliente, "tipo_cuenta_id": 999999})
    assert tipo.status_code == 404
    for body, field in (
        ({"cliente_id": cliente, "tipo_cuenta_id": 1, "moneda": "GBP"}, "moneda"),
        ({"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "-5"}, "saldo"),
        ({"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "1.234"}, "saldo"),
        ({"cliente_id": cliente, "tipo_cuenta_id": 1, "saldo": "99999999999999"}, "saldo"),
        ({"cliente_id": "x", "tipo_cuenta_id": 1}, "cliente_id"),
    ):
        r = await http.post("/cuentas", json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in str(r.json()["detail"])


async def test_numero_de_cuenta_unico(http: httpx.AsyncClient, cuenta_factory: Factory, cliente: int) -> None:
    first = await cuenta_factory()
    numeros = {first["numero_cuenta"]}
    for _ in range(19):
        r = await http.post("/cuentas", json={"cliente_id": cliente, "tipo_cuenta_id": 2})
        assert r.status_code == 201
        numeros.add(r.json()["numero_cuenta"])
    assert len(numeros) == 20
    assert all(numero_valido(n) for n in numeros)


async def test_listas_filtros_y_paginacion(http: httpx.AsyncClient, cuenta_factory: Factory, cliente: int) -> None:
    pen = await cuenta_factory()
    usd = await cuenta_factory(moneda="USD")
    eur = await cuenta_factory(moneda="EUR")
    await http.patch(f"/cuentas/{eur['cuenta_id']}/estado", json={"estado": "bloqueada"})

    r = await http.get("/cuentas", params={"cliente_id": cliente})
    assert r.status_code == 200
    assert [c["cuenta_id"] for c in r.json()] == [eur["cuenta_id"], usd["cuenta_id"], pen["cuenta_id"]]  # newest first
    assert r.headers["X-Total-Count"] == "3"
    page = await http.get("/cuentas", params={"cliente_id": cliente, "skip": 1, "limit": 1})
    assert [c["cuenta_id"] for c in page.json()] == [usd["cuenta_id"]]
    assert page.headers["X-Total-Count"] == "3"

    usd_only = await http.get("/cuentas", params={"cliente_id": cliente, "moneda": "USD"})
    assert [c["cuenta_id"] for c in usd_only.json()] == [usd["cuenta_id"]]
    blocked = await http.get("/cuentas", params={"cliente_id": cliente, "estado": "bloqueada"})
    assert [c["cuenta_id"] for c in blocked.json()] == [eur["cuenta_id"]]

    del_cliente = await http.get(f"/cuentas/cliente/{cliente}")
    assert [c["cuenta_id"] for c in del_cliente.json()] == [eur["cuenta_id"], usd["cuenta_id"], pen["cuenta_id"]]
    assert del_cliente.headers["X-Total-Count"] == "3"
    assert (await http.get(f"/cuentas/cliente/{nuevo_cliente_id()}")).json() == []

    all_accounts = await http.get("/cuentas", params={"limit": 2})
    assert len(all_accounts.json()) == 2
    assert int(all_accounts.headers["X-Total-Count"]) >= 3
    assert (await http.get("/cuentas", params={"limit": 0})).status_code == 422
    assert (await http.get("/cuentas", params={"skip": -1})).status_code == 422


async def test_cuentas_desconocidas_son_404(http: httpx.AsyncClient) -> None:
    for path in ("/cuentas/987654321987", "/cuentas/numero/0000000000000", "/cuentas/987654321987/movimientos"):
        r = await http.get(path)
        assert r.status_code == 404, path
        assert "detail" in r.json()
    assert (
        await http.patch("/cuentas/987654321987/saldo", json={"monto": 1, "operacion": "deposito"})
    ).status_code == 404
    assert (await http.patch("/cuentas/987654321987/estado", json={"estado": "activa"})).status_code == 404
    assert (await http.delete("/cuentas/987654321987")).status_code == 404


async def test_deposito_y_retiro(http: httpx.AsyncClient, cuenta_factory: Factory, cuentas_tap: Tap) -> None:
    cuenta = await cuenta_factory(saldo="100.00")
    url = f"/cuentas/{cuenta['cuenta_id']}/saldo"
    dep = await http.patch(url, json={"monto": "50.25", "operacion": "deposito"})
    assert dep.status_code == 200
    assert dep.json()["saldo"] == "150.25"
    ret = await http.put(url, json={"monto": 150, "operacion": "retiro"})
    assert ret.status_code == 200
    assert ret.json()["saldo"] == "0.25"

    insuficiente = await http.patch(url, json={"monto": "0.26", "operacion": "retiro"})
    assert insuficiente.status_code == 409
    assert insuficiente.json()["detail"] == "Saldo insuficiente"
    for monto in (0, -500, "-500", "0.001", "abc"):
        r = await http.patch(url, json={"monto": monto, "operacion": "retiro"})
        assert r.status_code == 422, monto
        assert "monto" in str(r.json()["detail"])
    assert (await http.patch(url, json={"monto": 1, "operacion": "transferencia"})).status_code == 422
    assert (await http.get(f"/cuentas/{cuenta['cuenta_id']}")).json()["saldo"] == "0.25"

    events = await cuentas_tap.wait_for("bank.cuentas.SaldoActualizado.v1", count=3, cuenta_id=cuenta["cuenta_id"])
    assert [(e["causa"], e["operacion"], e["monto"], e["saldo"]) for e in events] == [
        ("APERTURA", "CREDITO", "100.00", "100.00"),
        ("DEPOSITO", "CREDITO", "50.25", "150.25"),
        ("RETIRO", "DEBITO", "150.00", "0.25"),
    ]


async def test_deposito_que_desborda_el_saldo_es_409(http: httpx.AsyncClient, cuenta_factory: Factory) -> None:
    cuenta = await cuenta_factory(saldo="9999999999999.00")
    r = await http.patch(f"/cuentas/{cuenta['cuenta_id']}/saldo", json={"monto": "1.00", "operacion": "deposito"})
    assert r.status_code == 409
    assert (await http.get(f"/cuentas/{cuenta['cuenta_id']}")).json()["saldo"] == "9999999999999.00"


async def test_extracto_con_saldo_corrido(http: httpx.AsyncClient, cuenta_factory: Factory) -> None:
    cuenta = await cuenta_factory(saldo="10.00")
    url = f"/cuentas/{cuenta['cuenta_id']}"
    for monto, op in (("5.00", "deposito"), ("3.50", "retiro"), ("100.00", "deposito")):
        assert (await http.patch(f"{url}/saldo", json={"monto": monto, "operacion": op})).status_code == 200
    r = await http.get(f"{url}/movimientos")
    assert r.headers["X-Total-Count"] == "4"
    rows = r.json()
    assert [(m["causa"], m["saldo_resultante"]) for m in rows] == [
        ("APERTURA", "10.00"),
        ("DEPOSITO", "15.00"),
        ("RETIRO", "11.50"),
        ("DEPOSITO", "111.50"),
    ]
    running = Decimal(0)
    for m in rows:
        running += Decimal(m["monto"]) * (1 if m["operacion"] == "CREDITO" else -1)
        assert Decimal(m["saldo_resultante"]) == running

    page = await http.get(f"{url}/movimientos", params={"skip": 1, "limit": 2})
    assert [m["movimiento_id"] for m in page.json()] == [m["movimiento_id"] for m in rows[1:3]]
    assert page.headers["X-Total-Count"] == "4"

    since = rows[2]["fecha"]
    recent = await http.get(f"{url}/movimientos", params={"desde": since})
    assert [m["movimiento_id"] for m in recent.json()] == [m["movimiento_id"] for m in rows[2:]]
    upto = await http.get(f"{url}/movimientos", params={"hasta": rows[1]["fecha"]})
    assert [m["movimiento_id"] for m in upto.json()] == [m["movimiento_id"] for m in rows[:2]]
    assert (await http.get(f"{url}/movimientos", params={"desde": since, "hasta": rows[0]["fecha"]})).status_code == 422
    assert (await http.get(f"{url}/movimientos", params={"desde": "ayer"})).status_code == 422


async def test_maquina_de_estados(http: httpx.AsyncClient, cuenta_factory: Factory, cuentas_tap: Tap) -> None:
    cuenta = await cuenta_factory(saldo="20.00")
    url = f"/cuentas/{cuenta['cuenta_id']}"

    blocked = await http.patch(f"{url}/estado", json={"estado": "bloqueada"})
    assert (blocked.status_code, blocked.json()["estado"]) == (200, "bloqueada")
    for op in ("deposito", "retiro"):
        r = await http.patch(f"{url}/saldo", json={"monto": "1.00", "operacion": op})
        assert r.status_code == 409
    assert (await http.patch(f"{url}/estado", json={"estado": "activa"})).json()["estado"] == "activa"

    con_saldo = await http.patch(f"{url}/estado", json={"estado": "cerrada"})
    assert con_saldo.status_code == 409
    assert (await http.patch(f"{url}/estado", json={"estado": "suspendida"})).status_code == 422

    await http.patch(f"{url}/saldo", json={"monto": "20.00", "operacion": "retiro"})
    closed = await http.patch(f"{url}/estado", json={"estado": "cerrada"})
    assert (closed.status_code, closed.json()["estado"]) == (200, "cerrada")
    for estado in ("activa", "bloqueada"):
        assert (await http.patch(f"{url}/estado", json={"estado": estado})).status_code == 409
    assert (await http.patch(f"{url}/saldo", json={"monto": "1.00", "operacion": "deposito"})).status_code == 409

    changes = await cuentas_tap.wait_for("bank.cuentas.EstadoCuentaCambiado.v1", count=3, cuenta_id=cuenta["cuenta_id"])
    assert [(e["estado_anterior"], e["estado"]) for e in changes] == [
        ("activa", "bloqueada"),
        ("bloqueada", "activa"),
        ("activa", "cerrada"),
    ]


async def test_eliminar_solo_con_saldo_cero(http: httpx.AsyncClient, cuenta_factory: Factory, cuentas_tap: Tap) -> None:
    cuenta = await cuenta_factory(saldo="1.00")
    url = f"/cuentas/{cuenta['cuenta_id']}"
    refused = await http.delete(url)
    assert refused.status_code == 409
    await http.patch(f"{url}/saldo", json={"monto": "1.00", "operacion": "retiro"})
    done = await http.delete(url)
    assert done.status_code == 200
    assert "mensaje" in done.json()
    assert (await http.get(url)).status_code == 404
    assert (await http.get(f"/cuentas/numero/{cuenta['numero_cuenta']}")).status_code == 404
    assert (await http.delete(url)).status_code == 404
    listed = await http.get("/cuentas", params={"cliente_id": cuenta["cliente_id"]})
    assert cuenta["cuenta_id"] not in [c["cuenta_id"] for c in listed.json()]
    [gone] = await cuentas_tap.wait_for("bank.cuentas.CuentaEliminada.v1", cuenta_id=cuenta["cuenta_id"])
    assert gone["cliente_id"] == cuenta["cliente_id"]


async def test_cors_y_docs(http: httpx.AsyncClient) -> None:
    pre = await http.options(
        "/cuentas", headers={"Origin": "http://spa.example", "Access-Control-Request-Method": "POST"}
    )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] in ("*", "http://spa.example")
    assert (await http.get("/docs")).status_code == 200
    assert "/cuentas/{cuenta_id}/saldo" in (await http.get("/openapi.json")).json()["paths"]


async def test_health_prueba_base_de_datos_y_kafka(http: httpx.AsyncClient) -> None:
    r = await http.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["database"], body["kafka"]) == ("healthy", "connected", "connected")
