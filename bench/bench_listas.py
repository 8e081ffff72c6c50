"""Benchmark of the list endpoints of MS4 over whatever data the running system holds (the demo data after
`make up`): one page newest first, a filter by estado, by cuenta and by date range, and a deep page; each with
its X-Total-Count. Also the same queries straight on the document store (pymongo), for scale: that is what every
list cost before the service answered lists from its in-memory index (services/transacciones/listing.py).

Run: .venv/bin/python -m bench.bench_listas [--requests 200] [--concurrency 1,8] [--direct-requests 3]
"""

import argparse
import asyncio
import time
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bank.auth import bearer_auth
from bench._harness import concurrency_levels, measure, save

TRANSACCIONES = "http://127.0.0.1:8004"
MONGO = "mongodb://127.0.0.1:27017/"

QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("newest page", "/transacciones", {"limit": 20}),
    ("estado=COMPLETADA", "/transacciones/estado/COMPLETADA", {"limit": 20}),
    ("by cuenta", "/transacciones/cuenta/{cuenta}", {"limit": 20}),
    ("date range", "/transacciones/fecha-rango", {"inicio": "2020-01-01", "fin": "2100-01-01", "limit": 100}),
    ("deep page", "/transacciones", {"skip": 10_000, "limit": 100}),
]


async def _direct(requests: int) -> list[dict[str, Any]]:
    """The archive queried as the repository would without the index: a filter, newest first, and a count."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO)
    coll = client.transacciones.transacciones
    newest = [("fecha", -1), ("_id", -1)]

    async def one(_: int) -> None:
        await coll.find({"estado": "COMPLETADA"}).sort(newest).limit(20).to_list()
        await coll.count_documents({"estado": "COMPLETADA"})

    try:
        result = await measure("store directly: estado page + count", one, requests=requests, concurrency=1)
    finally:
        await client.close()
    return [result]


async def main(requests: int, levels: list[int], direct_requests: int) -> None:
    async with httpx.AsyncClient(auth=bearer_auth(), base_url=TRANSACCIONES, timeout=120) as http:
        first = await http.get("/transacciones", params={"limit": 1})
        first.raise_for_status()
        total = int(first.headers["X-Total-Count"])
        rows = first.json()
        cuenta = (rows[0].get("cuentaOrigenId") or rows[0].get("cuentaDestinoId")) if rows else 1
        stats = (await http.get("/stats")).json()
        print(f"{total} transactions; listing index: {stats.get('listing_index')}")
        results: list[dict[str, Any]] = []
        for name, path, params in QUERIES:
            url = path.format(cuenta=cuenta)

            async def call(_: int, url: str = url, params: dict[str, Any] = params) -> None:
                response = await http.get(url, params=params)
                response.raise_for_status()

            for concurrency in levels:
                started = time.perf_counter()
                result = await measure(f"GET {name}", call, requests=requests, concurrency=concurrency)
                results.append(result | {"transactions": total, "wall_s": round(time.perf_counter() - started, 2)})
    if direct_requests:
        results += [r | {"transactions": total} for r in await _direct(direct_requests)]
    save("listas", results)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=concurrency_levels, default="1,8", help="comma-separated levels")
    parser.add_argument("--direct-requests", type=int, default=3, help="0 to skip the direct store queries")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.direct_requests))
