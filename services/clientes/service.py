"""Use cases of clientes: register, read, update, soft-delete. Each write commits its state change and the event
it causes in one transaction (outbox); the relay publishes them to bank.clientes.v1."""

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from contracts.clientes import ClienteActualizado, ClienteCreado, ClienteEliminado
from contracts.clientes import Documento as DocumentoEvento
from contracts.envelope import AuthContext, envelope_for
from services.clientes import domain
from services.clientes.domain import Cambios, Cliente, NuevoCliente
from services.clientes.errors import ClienteConSaldo, ClienteNoEncontrado
from services.clientes.repository import ClientesRepository
from services.platform.idempotency import Keyed, Recorded

SOURCE: Final = "/clientes"


def evento_creado(cliente: Cliente) -> ClienteCreado:
    return ClienteCreado(
        cliente_id=cliente.cliente_id,
        nombre=cliente.nombre,
        apellido=cliente.apellido,
        email=cliente.email,
        telefono=cliente.telefono,
        estado=cliente.estado,
        fecha_registro=cliente.fecha_registro,
        documentos=tuple(
            DocumentoEvento(
                documento_id=d.documento_id,
                tipo_documento=d.tipo_documento,
                numero_documento=d.numero_documento,
                fecha_emision=d.fecha_emision,
                fecha_vencimiento=d.fecha_vencimiento,
            )
            for d in cliente.documentos
        ),
    )


def evento_actualizado(cliente: Cliente) -> ClienteActualizado:
    """The full state after the change, so a consumer needs no earlier event to apply it."""
    return ClienteActualizado(
        cliente_id=cliente.cliente_id,
        nombre=cliente.nombre,
        apellido=cliente.apellido,
        email=cliente.email,
        telefono=cliente.telefono,
        estado=cliente.estado,
    )


def _lookup_text(value: str) -> str | None:
    """A path value that could be stored at all; anything else (NUL, broken UTF-8) simply finds nothing."""
    try:
        return domain.check_text(value.strip())
    except ValueError:
        return None


class ClientesService:
    def __init__(self, repo: ClientesRepository) -> None:
        self._repo = repo

    # `idem`: the write's Idempotency-Key(s), claimed first and answered last in the write's own transaction.

    async def respuesta_registrada(self, clave: str) -> Recorded | None:
        return await self._repo.recorded_answer(clave)

    async def respuestas_registradas(self, claves: Sequence[str]) -> dict[str, Recorded]:
        return await self._repo.recorded_answers(claves)

    async def registrar(
        self, nuevo: NuevoCliente, idem: Keyed[Cliente] | None = None, actor: AuthContext | None = None
    ) -> Cliente:
        return (await self.registrar_lote([nuevo], [idem] if idem else (), actor))[0]

    async def registrar_lote(
        self, nuevos: Sequence[NuevoCliente], idem: Sequence[Keyed[Cliente]] = (), actor: AuthContext | None = None
    ) -> list[Cliente]:
        """All in one transaction (also a bulk load's fast path): any refused one rolls the whole batch back.
        `idem`: none, or one key per cliente, in order. `actor`: who registers them (kept and on the events)."""
        async with self._repo.unit() as unit:
            await unit.claim_keys(idem)
            clientes = await unit.insert_many(nuevos, actor)
            await unit.add_events([envelope_for(evento_creado(c), source=SOURCE, authcontext=actor) for c in clientes])
            await unit.record_answers(zip(idem, clientes, strict=False))
        return clientes

    async def obtener(self, cliente_id: int) -> Cliente:
        cliente = await self._repo.get(cliente_id) if domain.valid_id(cliente_id) else None
        if cliente is None:
            raise ClienteNoEncontrado(cliente_id)
        return cliente

    async def por_email(self, email: str) -> Cliente:
        text = _lookup_text(email)
        cliente = await self._repo.by_email(text) if text else None
        if cliente is None:
            raise ClienteNoEncontrado(email)
        return cliente

    async def por_documento(self, numero_documento: str) -> Cliente:
        text = _lookup_text(numero_documento)
        # Stored numbers are upper-case (passports, carnets); DNI/RUC are digits either way.
        cliente = await self._repo.by_documento(text.upper()) if text else None
        if cliente is None:
            raise ClienteNoEncontrado(numero_documento)
        return cliente

    async def listar(
        self, *, estado: str | None, q: str | None, skip: int, limit: int, cliente_id: int | None = None
    ) -> tuple[list[Cliente], int]:
        q = (q or "").strip() or None
        return await self._repo.page(estado=estado, q=q, skip=skip, limit=limit, cliente_id=cliente_id)

    async def actualizar(
        self,
        cliente_id: int,
        cambios: Cambios,
        idem: Keyed[Cliente] | None = None,
        actor: AuthContext | None = None,
    ) -> Cliente:
        if not domain.valid_id(cliente_id):
            raise ClienteNoEncontrado(cliente_id)
        async with self._repo.unit() as unit:
            await unit.claim_keys([idem] if idem else [])
            antes = await unit.get_for_update(cliente_id)
            if antes is None:
                raise ClienteNoEncontrado(cliente_id)
            despues = domain.apply_cambios(antes, cambios)
            if domain.changed(antes, despues):
                despues = replace(despues, actualizado_por=actor)
                await unit.update(despues)
                await unit.add_events([envelope_for(evento_actualizado(despues), source=SOURCE, authcontext=actor)])
            await unit.record_answers([(idem, despues)] if idem else [])
        return despues

    async def eliminar(self, cliente_id: int, actor: AuthContext | None = None) -> None:
        """Soft delete, refused while an account of the cliente is open with money (as far as the projection
        of bank.cuentas.v1 knows; see projection.py for the window this leaves and why it is acceptable)."""
        if not domain.valid_id(cliente_id):
            raise ClienteNoEncontrado(cliente_id)
        async with self._repo.unit() as unit:
            # The row lock serializes a DELETE with a concurrent PUT or DELETE of the same cliente.
            if await unit.get_for_update(cliente_id) is None:
                raise ClienteNoEncontrado(cliente_id)
            if await unit.has_accounts_with_balance(cliente_id):
                raise ClienteConSaldo(cliente_id)
            await unit.mark_deleted(cliente_id, actor)
            await unit.add_events(
                [envelope_for(ClienteEliminado(cliente_id=cliente_id), source=SOURCE, authcontext=actor)]
            )
