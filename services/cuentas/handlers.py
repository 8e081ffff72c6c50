"""Kafka entry points of cuentas: turn ConsumerLoop deliveries into use-case calls (nothing else lives here)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiomysql

from consumers.handler import Delivery
from services.cuentas import commands, replica


@dataclass(frozen=True)
class ComandosHandler:
    """bank.cuentas.comandos.v1 -> commands.aplicar; a batch is one transaction, a single command its own."""

    pool: aiomysql.Pool
    on_replies: Callable[[], None] | None = None  # after a commit (replies are in the outbox): wakes the relay

    async def handle(self, delivery: Delivery) -> None:
        await commands.aplicar(self.pool, [commands.decodificar(delivery.envelope)], on_commit=self.on_replies)

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        # Any failure (a poison command, a deadlock) rolls the batch back; ConsumerLoop then calls `handle` per command.
        recibidos = [commands.decodificar(d.envelope) for d in deliveries]
        await commands.aplicar(self.pool, recibidos, on_commit=self.on_replies)


@dataclass(frozen=True)
class ReplicaClientesHandler:
    """bank.clientes.v1 -> replica.aplicar."""

    pool: aiomysql.Pool

    async def handle(self, delivery: Delivery) -> None:
        await replica.aplicar(self.pool, [delivery.envelope])

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        await replica.aplicar(self.pool, [d.envelope for d in deliveries])
