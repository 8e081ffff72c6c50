"""Pure, deterministic generators of demo requests (Faker es_ES/es_MX, seeded): same seed, same data, so
a re-run asks for the same clientes and the services' uniqueness rules make it harmless."""

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker

DOMAINS = ("correo.pe", "mail.com", "outlook.es", "gmail.com", "yahoo.com.mx", "banco-demo.pe")
MONEDAS = (("PEN", 0.6), ("USD", 0.3), ("EUR", 0.1))
TIPOS_TRANSACCION = (("DEPOSITO", 0.35), ("RETIRO", 0.25), ("TRANSFERENCIA", 0.25), ("PAGO_SERVICIO", 0.15))
SERVICIOS = ("Luz del Sur", "Sedapal", "Movistar", "Claro", "Entel", "Universidad", "Netflix", "Gas Natural")
CENT = Decimal("0.01")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower()) or "cliente"


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(rng.uniform(low, high))).quantize(CENT)


def documento(i: int, rng: random.Random) -> dict[str, Any]:
    """A unique document per index: multiplying by a number coprime with the modulus is a bijection."""
    roll = rng.random()
    if roll < 0.70:
        tipo, numero = "DNI", f"{(i * 7919 + 10_000_019) % 100_000_000:08d}"
    elif roll < 0.82:
        tipo, numero = "Pasaporte", f"P{(i * 104_729 + 5_000_011) % 1_000_000_000:09d}"
    elif roll < 0.92:
        tipo, numero = "RUC", f"20{(i * 7919 + 123_457) % 1_000_000_000:09d}"
    else:
        tipo, numero = "Carnet Extranjeria", f"CE{(i * 15_485_863 + 77) % 1_000_000_000:09d}"
    emision = date.today() - timedelta(days=rng.randrange(30, 9 * 365))
    return {
        "tipo_documento": tipo,
        "numero_documento": numero,
        "fecha_emision": emision.isoformat(),
        "fecha_vencimiento": (emision + timedelta(days=365 * 8)).isoformat(),
    }


def clientes(count: int, seed: int = 2024) -> list[dict[str, Any]]:
    """POST /clientes bodies: unique, valid emails (the index makes them unique) and documents."""
    fake = Faker(["es_ES", "es_MX"])
    fake.seed_instance(seed)
    # Faker is slow per call: draw pools once, combine them with a seeded RNG (~1M distinct names).
    nombres = [fake.first_name() for _ in range(700)]
    apellidos = [fake.last_name() for _ in range(900)]
    rng = random.Random(seed)
    out = []
    for i in range(count):
        nombre, apellido = rng.choice(nombres)[:100], f"{rng.choice(apellidos)} {rng.choice(apellidos)}"[:100]
        email = f"{_slug(nombre)}.{_slug(apellido)}.{i:05d}@{rng.choice(DOMAINS)}"[:150]
        estado = _pick(rng, (("activo", 0.9), ("inactivo", 0.06), ("bloqueado", 0.04)))
        out.append(
            {
                "nombre": nombre,
                "apellido": apellido,
                "email": email,
                "telefono": f"+51 9{rng.randrange(10**8):08d}",
                "estado": estado,
                "documento": documento(i, rng),
            }
        )
    return out


def cuentas(count: int, cliente_ids: Sequence[int], tipo_ids: Sequence[int], seed: int = 2024) -> list[dict[str, Any]]:
    """POST /cuentas bodies over active clientes: every one gets an account before any gets a second."""
    if not cliente_ids or not tipo_ids:
        return []
    rng = random.Random(seed + 1)
    owners = list(cliente_ids)
    rng.shuffle(owners)
    out = []
    for i in range(count):
        saldo = Decimal(0) if rng.random() < 0.1 else _money(rng, 50, 25_000)
        out.append(
            {
                "cliente_id": owners[i % len(owners)],
                "tipo_cuenta_id": rng.choice(list(tipo_ids)),
                "saldo": str(saldo),
                "moneda": _pick(rng, MONEDAS),
            }
        )
    return out


@dataclass(frozen=True)
class CuentaVista:
    """What the transaction generator needs to know of an account."""

    cuenta_id: int
    moneda: str
    saldo: Decimal


def transacciones(count: int, cuentas_activas: Sequence[CuentaVista], seed: int = 2024) -> list[dict[str, Any]]:
    """POST /transacciones bodies of all four kinds; amounts are mostly affordable, a few are not (so the
    saga's FALLIDA path shows up in the demo too)."""
    if len(cuentas_activas) < 2:
        return []
    rng = random.Random(seed + 2)
    fake = Faker(["es_ES", "es_MX"])
    fake.seed_instance(seed + 2)
    conceptos = [fake.sentence(nb_words=3).rstrip(".") for _ in range(300)]
    by_moneda: dict[str, list[CuentaVista]] = {}
    for c in cuentas_activas:
        by_moneda.setdefault(c.moneda, []).append(c)
    out = []
    for _ in range(count):
        tipo = _pick(rng, TIPOS_TRANSACCION)
        origen = rng.choice(cuentas_activas)
        tope = max(origen.saldo * Decimal("0.3"), Decimal(20))
        monto = _money(rng, 5, float(tope)) if rng.random() > 0.04 else origen.saldo + _money(rng, 100, 5000)
        body: dict[str, Any] = {"tipo": tipo, "monto": str(monto), "moneda": origen.moneda}
        if tipo == "DEPOSITO":
            body |= {"cuentaDestinoId": origen.cuenta_id, "descripcion": "Depósito en ventanilla"}
        elif tipo == "RETIRO":
            body |= {"cuentaOrigenId": origen.cuenta_id, "descripcion": "Retiro en cajero"}
        elif tipo == "PAGO_SERVICIO":
            body |= {"cuentaOrigenId": origen.cuenta_id, "descripcion": f"Pago {rng.choice(SERVICIOS)}"}
        else:
            candidatos = by_moneda[origen.moneda]
            destino = rng.choice(candidatos)
            if destino.cuenta_id == origen.cuenta_id:
                destino = candidatos[(candidatos.index(destino) + 1) % len(candidatos)]
            if destino.cuenta_id == origen.cuenta_id:  # the only account in its currency: deposit instead
                body |= {"tipo": "DEPOSITO", "cuentaDestinoId": origen.cuenta_id, "descripcion": "Depósito"}
            else:
                body |= {
                    "cuentaOrigenId": origen.cuenta_id,
                    "cuentaDestinoId": destino.cuenta_id,
                    "descripcion": f"Transferencia: {rng.choice(conceptos)}"[:200],
                }
        body["metadata"] = {"canal": rng.choice(["web", "app", "agencia"]), "origen": "seed"}
        out.append(body)
    return out
