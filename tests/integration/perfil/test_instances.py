"""The two perfil instances of the stack share the partitions of the domain topics (consumer group
perfil.proyeccion, none held twice, none left out) and each answers every read, as the balancer on :6000 does."""

from typing import Any

import httpx

from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.perfil.conftest import Bank
from tests.integration.scaling import end_offsets, held_partitions

GROUP = "perfil.proyeccion"
INSTANCES = {"perfil-1": "http://127.0.0.1:6010", "perfil-2": "http://127.0.0.1:6011"}
BALANCER = "http://127.0.0.1:6000"


async def test_las_dos_instancias_se_reparten_las_particiones() -> None:
    everything = set(await end_offsets())
    held = {name: await held_partitions(f"{url}/metrics", GROUP) for name, url in INSTANCES.items()}
    assert all(held.values()), f"every instance holds partitions: {held}"
    assert held["perfil-1"] | held["perfil-2"] == everything
    assert not held["perfil-1"] & held["perfil-2"], "no partition held by both"


async def test_cada_instancia_y_el_balanceador_responden_el_mismo_perfil(bank: Bank) -> None:
    cliente = await bank.nuevo_cliente("Dos")
    cuenta = await bank.abrir_cuenta(cliente["cliente_id"], "25.00", "PEN")
    path = f"/api/clientes/{cliente['cliente_id']}/perfil-completo"
    async with httpx.AsyncClient(auth=Bearer(), timeout=30) as http:

        async def everyone_has_it() -> list[dict[str, Any]] | None:
            bodies = []
            for base in [*INSTANCES.values(), BALANCER]:
                r = await http.get(base + path)
                if r.status_code != 200 or not r.json()["cuentas"]:
                    return None
                bodies.append(r.json())
            return bodies

        bodies = await eventually(everyone_has_it, timeout=60, interval=0.3, what="the profile on every instance")
        assert bodies[0] == bodies[1] == bodies[2]
        assert [c["cuenta_id"] for c in bodies[0]["cuentas"]] == [cuenta["cuenta_id"]]
        for base in INSTANCES.values():
            found = await http.get(base + "/api/clientes/buscar", params={"q": cliente["email"]})
            assert found.status_code == 200, found.text
            assert [c["cliente_id"] for c in found.json()["resultados"]] == [cliente["cliente_id"]]
