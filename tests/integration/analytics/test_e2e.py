"""End to end on the running stack: a cliente created through MS1 reaches the lake through Kafka and the
supervised lake sink, and the running analytics service (MS5, :8000) answers with it."""

import httpx

from tests.conftest import eventually
from tests.integration.auth import Bearer
from tests.integration.conftest import URLS


async def test_cliente_creado_por_la_api_llega_al_lago_y_a_analytics(unique: str) -> None:
    email = f"lago.{unique}@example.com"
    async with httpx.AsyncClient(auth=Bearer(), timeout=30) as http:
        health = await http.get(f"{URLS['analytics']}/health")
        assert health.status_code == 200, health.text
        created = await http.post(
            f"{URLS['clientes']}/clientes",
            json={
                "nombre": "Lago",
                "apellido": "Prueba",
                "email": email,
                "documento": {"tipo_documento": "Pasaporte", "numero_documento": f"L{unique}"},
            },
        )
        assert created.status_code == 201, created.text
        cliente_id = created.json()["cliente_id"]
        query = {"query": f"SELECT cliente_id, estado, numero_documento FROM clientes WHERE email = '{email}'"}

        async def in_analytics() -> list[dict[str, object]] | None:
            answer = await http.post(f"{URLS['analytics']}/api/query/custom", json=query)
            assert answer.status_code == 200, answer.text
            rows: list[dict[str, object]] = answer.json()["data"]
            return rows or None

        rows = await eventually(in_analytics, timeout=90, interval=1.0, what="the new cliente in analytics")
    assert rows == [
        {
            "cliente_id": cliente_id,
            "estado": "activo",
            "numero_documento": created.json()["documentos"][0]["numero_documento"],
        }
    ]
