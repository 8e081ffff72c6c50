"""Use cases behind the REST API: each write is one MySQL transaction holding the state change, its ledger row(s)
and its events (outbox), so nothing is announced that did not happen and nothing happens unannounced."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Final, Literal

import aiomysql
import pymysql

from contracts.cuentas import EstadoCuenta, MotivoRechazo, Operacion, RetencionExpirada, RetencionLiberada
from contracts.envelope import AuthContext, Envelope
from contracts.money import Moneda
from producers.outbox_mysql import add_to_outbox
from services.cuentas import balance, db, events, idempotencia
from services.cuentas import repository as repo
from services.cuentas.asientos import BalanceMoneda, asientos, balances
from services.cuentas.decisions import Captura, Denegado, Ventanilla
from services.cuentas.domain import (
    Cuenta,
    CuentaBloqueada,
    LimitesCuenta,
    LimitesDiarios,
    Movimiento,
    MovimientoNuevo,
    TipoCuenta,
    cambio_de_estado,
    dia_ledger,
    limites_de_cuenta,
    nuevo_numero_cuenta,
    validar_eliminacion,
    ventana_del_dia,
)
from services.cuentas.errors import (
    ClienteNoActivo,
    ClienteNoEncontrado,
    CuentaNoActiva,
    CuentaNoEncontrada,
    LimiteDiarioExcedido,
    RetencionNoEncontrada,
    SaldoExcedido,
    SaldoInsuficiente,
    SinNumeroLibre,
    TipoCuentaNoEncontrado,
)
from services.cuentas.retenciones import (
    EstadoRetencion,
    Retencion,
    decidir_captura,
    decidir_liberacion,
    decidir_retencion,
    validar_vence,
    vencida,
)
from services.platform.errors import DomainError
from services.platform.idempotency import Keyed, Recorded

NUMERO_INTENTOS: Final = 8

OperacionSaldo = Literal["deposito", "retiro"]
_OPERACION: Final[dict[str, Operacion]] = {"deposito": "CREDITO", "retiro": "DEBITO"}


@dataclass(frozen=True)
class Apertura:
    """A request to open an account (POST /cuentas, or one item of POST /cuentas/lote)."""

    cliente_id: int
    tipo_cuenta_id: int
    saldo: Decimal
    moneda: Moneda
    correlation_id: str | None = None
    actor: AuthContext | None = None  # who asks for it


class CuentasService:
    """The REST use cases over one connection pool."""

    def __init__(
        self,
        pool: aiomysql.Pool,
        *,
        on_events: Callable[[], None] | None = None,
        on_hold: Callable[[], None] | None = None,
    ) -> None:
        self._pool = pool
        self._on_events = on_events  # after a commit that wrote events: wakes this process's outbox relay
        self._on_hold = on_hold  # after a new hold is committed: its vence may be the next one due (main.py)

    # --- reads ----------------------------------------------------------------------------------------------

    async def tipos_cuenta(self) -> list[TipoCuenta]:
        async with db.reading(self._pool) as cur:
            return await repo.tipos_activos(cur)

    async def tipo_cuenta(self, tipo_cuenta_id: int) -> TipoCuenta:
        async with db.reading(self._pool) as cur:
            tipo = await repo.tipo_por_id(cur, tipo_cuenta_id)
        if tipo is None:
            raise TipoCuentaNoEncontrado(tipo_cuenta_id)
        return tipo

    async def cuentas_internas(self) -> list[BalanceMoneda]:
        """The bank's own accounts per currency, with the customers' total, as of one instant: the reads share one
        transaction (REPEATABLE READ, the server's default: one snapshot), so a movement committing meanwhile is in
        both or in neither and the total stays 0."""
        async with db.transaction(self._pool) as cur:
            clientes, retenido = await repo.totales_clientes(cur)
            internas = await repo.saldos_internos(cur)
        return balances(internas, clientes, retenido)

    async def cuenta(self, cuenta_id: int) -> Cuenta:
        async with db.reading(self._pool) as cur:
            cuenta = await repo.cuenta_por_id(cur, cuenta_id)
        if cuenta is None:
            raise CuentaNoEncontrada(cuenta_id)
        return cuenta

    async def cuenta_por_numero(self, numero_cuenta: str) -> Cuenta:
        async with db.reading(self._pool) as cur:
            cuenta = await repo.cuenta_por_numero(cur, numero_cuenta)
        if cuenta is None:
            raise CuentaNoEncontrada(numero_cuenta)
        return cuenta

    async def cuentas(
        self,
        *,
        cliente_id: int | None = None,
        estado: EstadoCuenta | None = None,
        moneda: Moneda | None = None,
        skip: int,
        limit: int,
    ) -> tuple[list[Cuenta], int]:
        async with db.reading(self._pool) as cur:
            return await repo.listar_cuentas(
                cur, cliente_id=cliente_id, estado=estado, moneda=moneda, skip=skip, limit=limit
            )

    async def movimientos(
        self, cuenta_id: int, *, desde: datetime | None, hasta: datetime | None, skip: int, limit: int
    ) -> tuple[list[Movimiento], int]:
        async with db.reading(self._pool) as cur:
            if await repo.cuenta_por_id(cur, cuenta_id) is None:
                raise CuentaNoEncontrada(cuenta_id)
            return await repo.movimientos(cur, cuenta_id=cuenta_id, desde=desde, hasta=hasta, skip=skip, limit=limit)

    async def limites(self, cuenta_id: int) -> LimitesCuenta:
        """The account's daily limits in force and what today (Lima) used of them."""
        async with db.reading(self._pool) as cur:
            return await _limites(cur, cuenta_id, bloqueando=False)

    async def respuesta_registrada(self, clave: str) -> Recorded | None:
        """The answer a committed write with this Idempotency-Key gave (either instance: the record is in MariaDB)."""
        return (await self.respuestas_registradas([clave])).get(clave)

    async def respuestas_registradas(self, claves: Sequence[str]) -> dict[str, Recorded]:
        async with db.reading(self._pool) as cur:
            return await idempotencia.find(cur, claves)

    # --- writes ---------------------------------------------------------------------------------------------
    # `idem`: the write's Idempotency-Key(s), claimed first and answered last in the write's own transaction.

    async def abrir_cuenta(self, apertura: "Apertura", idem: Keyed[Cuenta] | None = None) -> Cuenta:
        """Open an account for a cliente the replica knows as activo. An opening balance is the account's first
        ledger movement (APERTURA) and, like every movement, has its SaldoActualizado."""
        return (await self.abrir_cuentas([apertura], [idem] if idem else ()))[0]

    async def abrir_cuentas(self, aperturas: Sequence["Apertura"], idem: Sequence[Keyed[Cuenta]] = ()) -> list[Cuenta]:
        """Open them all in one transaction, or none: the first refused one (unknown or inactive cliente or tipo)
        raises before anything is written. `idem`: none, or one key per apertura, in order."""
        async with db.reading(self._pool) as cur:
            clientes = await repo.clientes_replicados(cur, [a.cliente_id for a in aperturas])
            tipos = {t.tipo_cuenta_id: t for t in await repo.tipos_activos(cur)}
        for a in aperturas:
            cliente = clientes.get(a.cliente_id)
            if cliente is None or cliente[1]:
                raise ClienteNoEncontrado(a.cliente_id)
            if cliente[0] != "activo":
                raise ClienteNoActivo(a.cliente_id, cliente[0])
            if a.tipo_cuenta_id not in tipos:
                raise TipoCuentaNoEncontrado(a.tipo_cuenta_id)
        fecha = repo.utcnow()
        async with db.transaction(self._pool, on_commit=self._on_events) as cur:
            await idempotencia.claim(cur, idem)
            ids = await self._insertar_cuentas(cur, aperturas, fecha)
            cuentas = [
                self._cuenta(a, tipos[a.tipo_cuenta_id], cuenta_id, numero, fecha)
                for a, (cuenta_id, numero) in zip(aperturas, ids, strict=True)
            ]
            # An opening balance is not a movement of an existing account (nothing to lock or decide: the account
            # is born with it), but the same ledger row and event as every movement. All in one ledger insert.
            con_saldo = [(a, c) for a, c in zip(aperturas, cuentas, strict=True) if a.saldo > 0]
            asientos_apertura = [
                MovimientoNuevo(
                    c.cuenta_id,
                    "CREDITO",
                    "APERTURA",
                    a.saldo,
                    a.saldo,
                    fecha,
                    actor=a.actor,
                    asientos=tuple(asientos(causa="APERTURA", operacion="CREDITO", moneda=a.moneda, monto=a.saldo)),
                )
                for a, c in con_saldo
            ]
            movimiento_ids = await repo.insertar_movimientos(cur, asientos_apertura)
            de_apertura = {
                c.cuenta_id: (asiento, movimiento_id)
                for (_, c), asiento, movimiento_id in zip(con_saldo, asientos_apertura, movimiento_ids, strict=True)
            }
            outbox: list[Envelope] = []
            for a, cuenta in zip(aperturas, cuentas, strict=True):
                abierta = events.envelope(
                    events.cuenta_abierta(cuenta), correlation_id=a.correlation_id, authcontext=a.actor
                )
                outbox.append(abierta)
                if cuenta.cuenta_id in de_apertura:
                    asiento, movimiento_id = de_apertura[cuenta.cuenta_id]
                    saldo = events.saldo_actualizado(cuenta, asiento, movimiento_id)
                    outbox.append(events.envelope(saldo, correlation_id=abierta.correlation_id, authcontext=a.actor))
            await add_to_outbox(cur, outbox)
            await idempotencia.record(cur, zip(idem, cuentas, strict=False))
        return cuentas

    @staticmethod
    def _cuenta(a: "Apertura", tipo: TipoCuenta, cuenta_id: int, numero: str, fecha: datetime) -> Cuenta:
        return Cuenta(
            cuenta_id=cuenta_id,
            cliente_id=a.cliente_id,
            tipo_cuenta_id=a.tipo_cuenta_id,
            numero_cuenta=numero,
            saldo=a.saldo,
            moneda=a.moneda,
            fecha_apertura=fecha,
            estado="activa",
            tipo_cuenta_nombre=tipo.nombre,
            tipo_cuenta_descripcion=tipo.descripcion,
            costo_mantenimiento=tipo.costo_mantenimiento,
            tasa_interes=tipo.tasa_interes,
            limite_retiro_diario=tipo.limite_retiro_diario,
            limite_transferencia_diario=tipo.limite_transferencia_diario,
        )

    async def _insertar_cuentas(
        self, cur: db.Cursor, aperturas: Sequence["Apertura"], fecha: datetime
    ) -> list[tuple[int, str]]:
        """(cuenta_id, numero) per apertura, in order: all in one insert, or, when a drawn number is taken (rare:
        13 random digits), one by one, each drawing again until it finds a free one."""
        nuevas = [
            repo.CuentaNueva(a.cliente_id, a.tipo_cuenta_id, nuevo_numero_cuenta(), a.saldo, a.moneda, fecha)
            for a in aperturas
        ]
        try:
            ids = await repo.insertar_cuentas(cur, nuevas)
        except pymysql.err.IntegrityError as exc:
            # A failed statement undoes only itself; the transaction stays usable.
            if not db.is_duplicate(exc, "cuentas_numero"):
                raise
        else:
            return [(cuenta_id, n.numero_cuenta) for cuenta_id, n in zip(ids, nuevas, strict=True)]
        return [
            await self._insertar_con_numero_libre(
                cur,
                cliente_id=a.cliente_id,
                tipo_cuenta_id=a.tipo_cuenta_id,
                saldo=a.saldo,
                moneda=a.moneda,
                fecha=fecha,
            )
            for a in aperturas
        ]

    async def _insertar_con_numero_libre(
        self, cur: db.Cursor, *, cliente_id: int, tipo_cuenta_id: int, saldo: Decimal, moneda: str, fecha: datetime
    ) -> tuple[int, str]:
        for _ in range(NUMERO_INTENTOS):
            numero = nuevo_numero_cuenta()
            try:
                cuenta_id = await repo.insertar_cuenta(
                    cur,
                    cliente_id=cliente_id,
                    tipo_cuenta_id=tipo_cuenta_id,
                    numero_cuenta=numero,
                    saldo=saldo,
                    moneda=moneda,
                    fecha_apertura=fecha,
                )
            except pymysql.err.IntegrityError as exc:
                # A failed INSERT undoes only itself; the transaction stays usable for the next number.
                if db.is_duplicate(exc, "cuentas_numero"):
                    continue
                raise
            return cuenta_id, numero
        raise SinNumeroLibre()

    async def mover_saldo(
        self,
        cuenta_id: int,
        *,
        monto: Decimal,
        operacion: OperacionSaldo,
        correlation_id: str | None,
        idem: Keyed[Cuenta] | None = None,
        actor: AuthContext | None = None,
    ) -> Cuenta:
        """A teller deposit or withdrawal, on the saga's path (balance.mover): lock, decide, balance change, ledger
        row and SaldoActualizado in one transaction."""
        pedido = Ventanilla(cuenta_id, _OPERACION[operacion], monto)
        async with db.transaction(self._pool, on_commit=self._on_events) as cur:
            await idempotencia.claim(cur, [idem] if idem else [])
            [resultado] = await balance.mover(cur, [pedido], repo.utcnow(), [actor])
            if isinstance(resultado, Denegado):
                raise _error(resultado, cuenta_id)
            evento = events.envelope(resultado.evento, correlation_id=correlation_id, authcontext=actor)
            await add_to_outbox(cur, [evento])
            # Read back for the answer (with its tipo de cuenta), under the row lock this transaction holds.
            cuenta = await repo.cuenta_por_id(cur, cuenta_id)
            assert cuenta is not None
            await idempotencia.record(cur, [(idem, cuenta)] if idem else [])
        return cuenta

    async def fijar_limites(
        self,
        cuenta_id: int,
        limites: LimitesDiarios,
        idem: Keyed[LimitesCuenta] | None = None,
        *,
        correlation_id: str | None = None,
        actor: AuthContext | None = None,
    ) -> LimitesCuenta:
        """Set (or, with None, drop) the account's overrides of its tipo's daily limits. Under the account's row lock,
        so a movement decides by the limits before or after the change, never a mix. A lower limit than what today
        already used refuses further debits today; nothing already moved is undone. A change is published
        (LimitesCuentaCambiados, same transaction) so the log tells an auditor which limits a refusal applied."""
        async with db.transaction(self._pool, on_commit=self._on_events) as cur:
            await idempotencia.claim(cur, [idem] if idem else [])
            locked = await _bloquear(cur, cuenta_id)
            leidos = await repo.limites_de_cuenta(cur, cuenta_id)
            assert leidos is not None  # _bloquear found it live, and holds its row lock
            await repo.fijar_limites(cur, cuenta_id=cuenta_id, limites=limites)
            estado = await _limites(cur, cuenta_id, bloqueando=True)
            if leidos[0] != limites:
                evento = events.limites_cambiados(locked, leidos[0], limites, repo.utcnow())
                await add_to_outbox(cur, [events.envelope(evento, correlation_id=correlation_id, authcontext=actor)])
            await idempotencia.record(cur, [(idem, estado)] if idem else [])
        return estado

    async def cambiar_estado(
        self,
        cuenta_id: int,
        *,
        estado: EstadoCuenta,
        correlation_id: str | None,
        idem: Keyed[Cuenta] | None = None,
        actor: AuthContext | None = None,
    ) -> Cuenta:
        async with db.transaction(self._pool, on_commit=self._on_events) as cur:
            await idempotencia.claim(cur, [idem] if idem else [])
            locked = await _bloquear(cur, cuenta_id)
            anterior = locked.estado
            if cambio_de_estado(anterior, estado, locked.saldo):
                await repo.cambiar_estado(cur, cuenta_id=cuenta_id, estado=estado)
            cuenta = await repo.cuenta_por_id(cur, cuenta_id)
            assert cuenta is not None
            if anterior != estado:
                evento = events.estado_cambiado(cuenta, anterior, repo.utcnow())
                await add_to_outbox(cur, [events.envelope(evento, correlation_id=correlation_id, authcontext=actor)])
            await idempotencia.record(cur, [(idem, cuenta)] if idem else [])
        return cuenta

    async def eliminar(
        self,
        cuenta_id: int,
        *,
        correlation_id: str | None,
        idem: Keyed[None] | None = None,
        actor: AuthContext | None = None,
    ) -> None:
        """Soft delete (the ledger stays) of an empty account."""
        async with db.transaction(self._pool, on_commit=self._on_events) as cur:
            await idempotencia.claim(cur, [idem] if idem else [])
            locked = await _bloquear(cur, cuenta_id)
            validar_eliminacion(locked.saldo)
            fecha = repo.utcnow()
            await repo.marcar_eliminada(cur, cuenta_id=cuenta_id, cuando=fecha)
            evento = events.cuenta_eliminada(cuenta_id, locked.cliente_id, fecha)
            await add_to_outbox(cur, [events.envelope(evento, correlation_id=correlation_id, authcontext=actor)])
            await idempotencia.record(cur, [(idem, None)] if idem else [])

    # --- holds (retenciones) ----------------------------------------------------------------------------------
    # Each runs under the account's row lock (taken first, then the hold's), so holds of one account, its movements
    # and the expiry task are serialized, and cuentas.retenido stays Σ of the ACTIVA holds.

    async def retenciones(
        self, cuenta_id: int, *, estado: EstadoRetencion | None, skip: int, limit: int
    ) -> tuple[list[Retencion], int]:
        async with db.reading(self._pool) as cur:
            if await repo.cuenta_por_id(cur, cuenta_id) is None:
                raise CuentaNoEncontrada(cuenta_id)
            return await repo.listar_retenciones(cur, cuenta_id=cuenta_id, estado=estado, skip=skip, limit=limit)

    async def retencion(self, cuenta_id: int, retencion_id: int) -> Retencion:
        async with db.reading(self._pool) as cur:
            if await repo.cuenta_por_id(cur, cuenta_id) is None:
                raise CuentaNoEncontrada(cuenta_id)
            found = await repo.retencion(cur, cuenta_id, retencion_id)
        if found is None:
            raise RetencionNoEncontrada(cuenta_id, retencion_id)
        return found

    async def crear_retencion(
        self,
        cuenta_id: int,
        *,
        monto: Decimal,
        vence: datetime,
        referencia: str | None,
        correlation_id: str | None,
        idem: Keyed[Retencion] | None = None,
        actor: AuthContext | None = None,
    ) -> Retencion:
        """Reserve `monto` until `vence`: refused exactly as a debit of it would be now (the available balance)."""
        ahora = repo.utcnow()
        validar_vence(vence, ahora)
        async with db.transaction(self._pool, on_commit=self._on_events) as cur:
            await idempotencia.claim(cur, [idem] if idem else [])
            cuenta = (await repo.bloquear_cuentas(cur, [cuenta_id])).get(cuenta_id)
            rechazo = decidir_retencion(cuenta_id, cuenta, monto)
            if rechazo is not None:
                raise _rechazo(rechazo.motivo, cuenta_id, rechazo.disponible, monto)
            assert cuenta is not None
            retencion_id = await repo.insertar_retencion(
                cur, cuenta_id=cuenta_id, monto=monto, vence=vence, referencia=referencia, creada_en=ahora, actor=actor
            )
            await repo.cambiar_retenido(cur, cuenta_id=cuenta_id, delta=monto)
            retencion = Retencion(
                retencion_id, cuenta_id, monto, cuenta.moneda, "ACTIVA", referencia, vence, ahora, actor=actor
            )
            despues = replace(cuenta, retenido=cuenta.retenido + monto)
            evento = events.retencion_creada(despues, retencion)
            await add_to_outbox(cur, [events.envelope(evento, correlation_id=correlation_id, authcontext=actor)])
            await idempotencia.record(cur, [(idem, retencion)] if idem else [])
        if self._on_hold is not None:
            self._on_hold()
        return retencion

    async def capturar_retencion(
        self,
        cuenta_id: int,
        retencion_id: int,
        *,
        monto: Decimal | None,
        correlation_id: str | None,
        idem: Keyed[Retencion] | None = None,
        actor: AuthContext | None = None,
    ) -> Retencion:
        """Capture all of a hold or part of it: the whole hold is released and the captured amount debited through
        the one movement path (balance.mover: a DEBITO ledger row, causa CAPTURA, and its SaldoActualizado), in one
        transaction; the rest of the hold is available again."""
        async with db.transaction(self._pool, on_commit=self._on_events) as cur:
            await idempotencia.claim(cur, [idem] if idem else [])
            await _bloquear(cur, cuenta_id)
            retencion = await _retencion_bloqueada(cur, cuenta_id, retencion_id)
            ahora = repo.utcnow()
            capturado = decidir_captura(retencion, monto, ahora)
            # Released first, so the debit below may spend the money this hold reserved (and the CHECK retenido <=
            # saldo holds after each statement); a refused debit rolls the release back with everything else.
            await repo.cambiar_retenido(cur, cuenta_id=cuenta_id, delta=-retencion.monto)
            [resultado] = await balance.mover(cur, [Captura(cuenta_id, capturado, retencion_id)], ahora, [actor])
            if isinstance(resultado, Denegado):
                raise _error(resultado, cuenta_id)
            movimiento_id = resultado.evento.movimiento_id
            if not await repo.terminar_retencion(
                cur,
                retencion_id=retencion_id,
                estado="CAPTURADA",
                cuando=ahora,
                monto_capturado=capturado,
                movimiento_id=movimiento_id,
            ):
                raise RuntimeError(f"hold {retencion_id} changed under its lock")
            capturada = events.retencion_capturada(
                resultado.aprobado.cuenta, retencion, capturado, movimiento_id, ahora
            )
            await add_to_outbox(
                cur,
                [
                    events.envelope(resultado.evento, correlation_id=correlation_id, authcontext=actor),
                    events.envelope(capturada, correlation_id=correlation_id, authcontext=actor),
                ],
            )
            final = replace(
                retencion, estado="CAPTURADA", resuelta_en=ahora, monto_capturado=capturado, movimiento_id=movimiento_id
            )
            await idempotencia.record(cur, [(idem, final)] if idem else [])
        return final

    async def liberar_retencion(
        self,
        cuenta_id: int,
        retencion_id: int,
        *,
        correlation_id: str | None,
        idem: Keyed[Retencion] | None = None,
        actor: AuthContext | None = None,
    ) -> Retencion:
        """Void an ACTIVA hold: all of it is available again; no money moves."""
        async with db.transaction(self._pool, on_commit=self._on_events) as cur:
            await idempotencia.claim(cur, [idem] if idem else [])
            cuenta = await _bloquear(cur, cuenta_id)
            retencion = await _retencion_bloqueada(cur, cuenta_id, retencion_id)
            ahora = repo.utcnow()
            decidir_liberacion(retencion, ahora)
            final, evento = await _terminar(cur, cuenta, retencion, ahora, expirada=False)
            await add_to_outbox(cur, [events.envelope(evento, correlation_id=correlation_id, authcontext=actor)])
            await idempotencia.record(cur, [(idem, final)] if idem else [])
        return final

    async def proximo_vencimiento(self) -> datetime | None:
        """When the next ACTIVA hold falls due (None: no hold is active)."""
        async with db.reading(self._pool) as cur:
            return await repo.proximo_vencimiento(cur)

    async def expirar_vencidas(self, *, limite: int = 200) -> int:
        """Expire the ACTIVA holds whose vence has passed, one account per transaction; returns how many this call
        expired. Safe with both instances running it: each hold is re-read under its account's and its own row lock
        and ended by a conditional UPDATE, so it expires once, and a capture racing it sees EXPIRADA (or wins and
        the expiry finds CAPTURADA): exactly one outcome."""
        async with db.reading(self._pool) as cur:
            due = await repo.retenciones_vencidas(cur, ahora=repo.utcnow(), limit=limite)
        por_cuenta: dict[int, list[int]] = {}
        for cuenta_id, retencion_id in due:
            por_cuenta.setdefault(cuenta_id, []).append(retencion_id)
        expiradas = 0
        for cuenta_id, ids in sorted(por_cuenta.items()):
            async with db.transaction(self._pool, on_commit=self._on_events) as cur:
                cuenta = (await repo.bloquear_cuentas(cur, [cuenta_id]))[cuenta_id]
                ahora = repo.utcnow()
                eventos: list[Envelope] = []
                for retencion_id in ids:
                    retencion = await repo.retencion(cur, cuenta_id, retencion_id, bloquear=True)
                    if retencion is None or not vencida(retencion, ahora):
                        continue  # captured, voided or expired by the other instance meanwhile
                    _, evento = await _terminar(cur, cuenta, retencion, ahora, expirada=True)
                    cuenta = replace(cuenta, retenido=cuenta.retenido - retencion.monto)
                    eventos.append(events.envelope(evento, correlation_id=None))
                await add_to_outbox(cur, eventos)
            expiradas += len(eventos)
        return expiradas


async def _bloquear(cur: db.Cursor, cuenta_id: int) -> CuentaBloqueada:
    """A live account, row-locked until the transaction ends."""
    cuenta = (await repo.bloquear_cuentas(cur, [cuenta_id])).get(cuenta_id)
    if cuenta is None or cuenta.eliminada:
        raise CuentaNoEncontrada(cuenta_id)
    return cuenta


async def _limites(cur: db.Cursor, cuenta_id: int, *, bloqueando: bool) -> LimitesCuenta:
    ahora = repo.utcnow()
    leidos = await repo.limites_de_cuenta(cur, cuenta_id)
    if leidos is None:
        raise CuentaNoEncontrada(cuenta_id)
    usados = await repo.usados_en_el_dia(cur, [cuenta_id], *ventana_del_dia(ahora), bloqueando=bloqueando)
    por_cupo = {cupo: usado for (_, cupo), usado in usados.items()}
    return limites_de_cuenta(cuenta_id, *leidos, por_cupo, dia_ledger(ahora))


def _error(denegado: Denegado, cuenta_id: int) -> DomainError:
    """The teller's answer to a denied movement (a saga hears the motivo as a MovimientoRechazado instead)."""
    return _rechazo(denegado.motivo, cuenta_id, denegado.disponible, denegado.pedido.monto, denegado.detalle)


def _rechazo(
    motivo: MotivoRechazo, cuenta_id: int, disponible: Decimal | None, monto: Decimal, detalle: str = ""
) -> DomainError:
    """A REST answer to a refusal of the one movement rule (teller movement, new hold, capture)."""
    match motivo:
        case "CUENTA_NO_EXISTE":
            return CuentaNoEncontrada(cuenta_id)
        case "CUENTA_CERRADA":
            return CuentaNoActiva("cerrada")
        case "CUENTA_BLOQUEADA":
            return CuentaNoActiva("bloqueada")
        case "SALDO_INSUFICIENTE":
            return SaldoInsuficiente(disponible, monto)
        case "SALDO_EXCEDIDO":
            return SaldoExcedido()
        case "LIMITE_DIARIO_EXCEDIDO":
            return LimiteDiarioExcedido(detalle)
    # MONEDA_DISTINTA and COMANDO_INVALIDO are for saga commands only (a teller moves the account's own currency).
    raise AssertionError(f"a REST movement cannot be denied with {motivo}")


async def _retencion_bloqueada(cur: db.Cursor, cuenta_id: int, retencion_id: int) -> Retencion:
    """A hold of the account, row-locked (after its account) until the transaction ends."""
    retencion = await repo.retencion(cur, cuenta_id, retencion_id, bloquear=True)
    if retencion is None:
        raise RetencionNoEncontrada(cuenta_id, retencion_id)
    return retencion


async def _terminar(
    cur: db.Cursor, cuenta: CuentaBloqueada, retencion: Retencion, ahora: datetime, *, expirada: bool
) -> tuple[Retencion, RetencionLiberada | RetencionExpirada]:
    """End an ACTIVA hold without moving money (voided or expired): all of it is available again."""
    estado: EstadoRetencion = "EXPIRADA" if expirada else "LIBERADA"
    if not await repo.terminar_retencion(cur, retencion_id=retencion.retencion_id, estado=estado, cuando=ahora):
        raise RuntimeError(f"hold {retencion.retencion_id} changed under its lock")
    await repo.cambiar_retenido(cur, cuenta_id=cuenta.cuenta_id, delta=-retencion.monto)
    despues = replace(cuenta, retenido=cuenta.retenido - retencion.monto)
    return replace(retencion, estado=estado, resuelta_en=ahora), events.retencion_terminada(
        despues, retencion, ahora, expirada=expirada
    )
