"""Kafka entry points of cuentas: turn ConsumerLoop deliveries into use-case calls (nothing else lives here)."""

from collections.abc import Sequence
from dataclasses import dataclass

import aiomysql

from consumers.handler import Delivery
from services.cuentas import commands, replica


@dataclass(frozen=True)
class ComandosHandler:
    """bank.cuentas.comandos.v1 -> commands.aplicar; a batch is one transaction, a single command its own."""

    pool: aiomysql.Pool

    async def handle(self, delivery: Delivery) -> None:
        await commands.aplicar(self.pool, [commands.decodificar(delivery.envelope)])

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        # Any failure (a poison command, a deadlock) rolls the batch back; ConsumerLoop then calls `handle` per command.
        await commands.aplicar(self.pool, [commands.decodificar(d.envelope) for d in deliveries])


@dataclass(frozen=True)
class ReplicaClientesHandler:
    """bank.clientes.v1 -> replica.aplicar."""

    pool: aiomysql.Pool

    async def handle(self, delivery: Delivery) -> None:
        await replica.aplicar(self.pool, [delivery.envelope])

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        await replica.aplicar(self.pool, [d.envelope for d in deliveries])
