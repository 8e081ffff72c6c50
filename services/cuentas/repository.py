"""Every SQL query of cuentas (MariaDB / MySQL 8 via aiomysql); connections and transactions live in db.py.

Functions take the cursor of an open transaction (or of an autocommit connection for reads), so a use case decides
what commits together. A balance changes only under the row lock `bloquear_cuentas` takes, by the amount the pure
decision approved (balance.py), with one ledger row per movement (`insertar_movimientos`).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pymysql

from contracts.cuentas import EstadoCuenta
from contracts.envelope import AuthContext
from services.cuentas.asientos import firmado
from services.cuentas.db import Cursor
from services.cuentas.decisions import DebitoSaga
from services.cuentas.domain import (
    CUPOS,
    Cuenta,
    CuentaBloqueada,
    Cupo,
    LimitesDiarios,
    Movimiento,
    MovimientoNuevo,
    TipoCuenta,
)
from services.cuentas.retenciones import EstadoRetencion, Retencion


def utcnow() -> datetime:
    return datetime.now(UTC)


def _naive(when: datetime) -> datetime:
    """DATETIME columns hold UTC without an offset (the session time zone is UTC)."""
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _aware(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC)


def _placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


# --- tipos de cuenta ------------------------------------------------------------------------------------------

_TIPO_COLS = (
    "tipo_cuenta_id, nombre, descripcion, costo_mantenimiento, tasa_interes, estado, limite_retiro_diario, "
    "limite_transferencia_diario"
)


def _tipo(row: Sequence[Any]) -> TipoCuenta:
    return TipoCuenta(*row)


async def tipos_activos(cur: Cursor) -> list[TipoCuenta]:
    await cur.execute(f"SELECT {_TIPO_COLS} FROM tipos_cuenta WHERE estado = 'activo' ORDER BY tipo_cuenta_id")
    return [_tipo(r) for r in await cur.fetchall()]


async def tipo_por_id(cur: Cursor, tipo_cuenta_id: int) -> TipoCuenta | None:
    await cur.execute(f"SELECT {_TIPO_COLS} FROM tipos_cuenta WHERE tipo_cuenta_id = %s", (tipo_cuenta_id,))
    row = await cur.fetchone()
    return _tipo(row) if row else None


# --- cuentas --------------------------------------------------------------------------------------------------

_CUENTA_COLS = (
    "c.cuenta_id, c.cliente_id, c.tipo_cuenta_id, c.numero_cuenta, c.saldo, c.moneda, c.fecha_apertura, c.estado, "
    "t.nombre, t.descripcion, t.costo_mantenimiento, t.tasa_interes, "
    # The limits in force: the account's override, else its tipo's.
    "COALESCE(c.limite_retiro_diario, t.limite_retiro_diario), "
    "COALESCE(c.limite_transferencia_diario, t.limite_transferencia_diario), c.retenido"
)
_CUENTA_FROM = "FROM cuentas c JOIN tipos_cuenta t ON t.tipo_cuenta_id = c.tipo_cuenta_id"


def _cuenta(row: Sequence[Any]) -> Cuenta:
    values = list(row)
    values[6] = _aware(values[6])
    return Cuenta(*values)


async def cuenta_por_id(cur: Cursor, cuenta_id: int) -> Cuenta | None:
    await cur.execute(
        f"SELECT {_CUENTA_COLS} {_CUENTA_FROM} WHERE c.cuenta_id = %s AND c.eliminada_en IS NULL", (cuenta_id,)
    )
    row = await cur.fetchone()
    return _cuenta(row) if row else None


async def cuenta_por_numero(cur: Cursor, numero_cuenta: str) -> Cuenta | None:
    await cur.execute(
        f"SELECT {_CUENTA_COLS} {_CUENTA_FROM} WHERE c.numero_cuenta = %s AND c.eliminada_en IS NULL", (numero_cuenta,)
    )
    row = await cur.fetchone()
    return _cuenta(row) if row else None


async def listar_cuentas(
    cur: Cursor, *, cliente_id: int | None, estado: str | None, moneda: str | None, skip: int, limit: int
) -> tuple[list[Cuenta], int]:
    """Newest first (cuenta_id is assigned in opening order, and unlike a timestamp it never ties)."""
    where = ["c.eliminada_en IS NULL"]
    args: list[Any] = []
    for column, value in (("c.cliente_id", cliente_id), ("c.estado", estado), ("c.moneda", moneda)):
        if value is not None:
            where.append(f"{column} = %s")
            args.append(value)
    condition = " AND ".join(where)
    await cur.execute(f"SELECT COUNT(*) FROM cuentas c WHERE {condition}", args)
    (total,) = await cur.fetchone()
    # The page's ids first, from cuentas alone (its primary key walked newest first, stopping at the page), then
    # their rows with their tipo. Joined in one query, MariaDB 10.11 drives from the 4-row tipos_cuenta, joins
    # every account and sorts them all in a temporary table for each page: 110-190 ms at 38,000 accounts against
    # 13-25 ms this way, and the seed reads 40-76 such pages while sagas run.
    await cur.execute(
        f"SELECT {_CUENTA_COLS} FROM (SELECT c.cuenta_id FROM cuentas c WHERE {condition} "
        "ORDER BY c.cuenta_id DESC LIMIT %s OFFSET %s) pagina "
        "JOIN cuentas c ON c.cuenta_id = pagina.cuenta_id JOIN tipos_cuenta t ON t.tipo_cuenta_id = c.tipo_cuenta_id "
        "ORDER BY c.cuenta_id DESC",
        [*args, limit, skip],
    )
    return [_cuenta(r) for r in await cur.fetchall()], int(total)


_INSERT_CUENTA = (
    "INSERT INTO cuentas (cliente_id, tipo_cuenta_id, numero_cuenta, saldo, moneda, estado, fecha_apertura) "
    "VALUES (%s, %s, %s, %s, %s, 'activa', %s)"
)


async def insertar_cuenta(
    cur: Cursor,
    *,
    cliente_id: int,
    tipo_cuenta_id: int,
    numero_cuenta: str,
    saldo: Decimal,
    moneda: str,
    fecha_apertura: datetime,
) -> int:
    """Raises IntegrityError (duplicate on cuentas_numero) when the number is taken; the caller draws another."""
    await cur.execute(
        _INSERT_CUENTA, (cliente_id, tipo_cuenta_id, numero_cuenta, saldo, moneda, _naive(fecha_apertura))
    )
    return int(cur.lastrowid)


@dataclass(frozen=True)
class CuentaNueva:
    cliente_id: int
    tipo_cuenta_id: int
    numero_cuenta: str
    saldo: Decimal
    moneda: str
    fecha_apertura: datetime


async def insertar_cuentas(cur: Cursor, nuevas: Sequence[CuentaNueva]) -> list[int]:
    """Several accounts in one statement; their cuenta_ids, in order (looked up by their unique numbers: consecutive
    auto-increment ids are not guaranteed). Raises IntegrityError (duplicate on cuentas_numero) when any number is
    taken: nothing of the statement stays, and the caller opens them one by one."""
    if not nuevas:
        return []
    filas = [
        (n.cliente_id, n.tipo_cuenta_id, n.numero_cuenta, n.saldo, n.moneda, _naive(n.fecha_apertura)) for n in nuevas
    ]
    if len(filas) == 1:
        await cur.execute(_INSERT_CUENTA, filas[0])
        return [int(cur.lastrowid)]
    # executemany may split a long batch into several INSERTs (max_stmt_length): the savepoint undoes them all.
    await cur.execute("SAVEPOINT cuentas_nuevas")
    try:
        await cur.executemany(_INSERT_CUENTA, filas)
    except pymysql.err.IntegrityError:
        await cur.execute("ROLLBACK TO SAVEPOINT cuentas_nuevas")
        raise
    numeros = [n.numero_cuenta for n in nuevas]
    await cur.execute(
        f"SELECT numero_cuenta, cuenta_id FROM cuentas WHERE numero_cuenta IN ({_placeholders(len(numeros))})", numeros
    )
    ids = {numero: int(cuenta_id) for numero, cuenta_id in await cur.fetchall()}
    return [ids[numero] for numero in numeros]


async def fijar_limites(cur: Cursor, *, cuenta_id: int, limites: LimitesDiarios) -> None:
    """The account's overrides of its tipo's daily limits (None: no override)."""
    await cur.execute(
        "UPDATE cuentas SET limite_retiro_diario = %s, limite_transferencia_diario = %s WHERE cuenta_id = %s",
        (limites.retiro, limites.transferencia, cuenta_id),
    )


async def limites_de_cuenta(cur: Cursor, cuenta_id: int) -> tuple[LimitesDiarios, LimitesDiarios] | None:
    """(the account's overrides, its tipo's limits) of a live account; None if there is none."""
    await cur.execute(
        "SELECT c.limite_retiro_diario, c.limite_transferencia_diario, t.limite_retiro_diario, "
        f"t.limite_transferencia_diario {_CUENTA_FROM} WHERE c.cuenta_id = %s AND c.eliminada_en IS NULL",
        (cuenta_id,),
    )
    row = await cur.fetchone()
    return (LimitesDiarios(row[0], row[1]), LimitesDiarios(row[2], row[3])) if row else None


async def cambiar_estado(cur: Cursor, *, cuenta_id: int, estado: EstadoCuenta) -> None:
    await cur.execute("UPDATE cuentas SET estado = %s WHERE cuenta_id = %s", (estado, cuenta_id))


async def marcar_eliminada(cur: Cursor, *, cuenta_id: int, cuando: datetime) -> None:
    await cur.execute("UPDATE cuentas SET eliminada_en = %s WHERE cuenta_id = %s", (_naive(cuando), cuenta_id))


# --- movimientos (the ledger) ---------------------------------------------------------------------------------

_MOV_COLS = (
    "movimiento_id, cuenta_id, operacion, causa, monto, saldo_resultante, fecha, transaccion_id, comando_id, "
    "comando_original_id, actor_authtype, actor_authid"
)


def _movimiento(row: Sequence[Any]) -> Movimiento:
    (
        movimiento_id,
        cuenta_id,
        operacion,
        causa,
        monto,
        saldo,
        fecha,
        transaccion_id,
        comando_id,
        original,
        authtype,
        authid,
    ) = row
    return Movimiento(
        movimiento_id=movimiento_id,
        cuenta_id=cuenta_id,
        operacion=operacion,
        causa=causa,
        monto=monto,
        saldo_resultante=saldo,
        fecha=_aware(fecha),
        transaccion_id=transaccion_id,
        comando_id=comando_id,
        comando_original_id=original,
        actor=AuthContext(authtype, authid) if authtype else None,
    )


_INSERT_MOV = (
    "INSERT INTO movimientos (cuenta_id, operacion, monto, saldo_resultante, causa, transaccion_id, comando_id, "
    "comando_original_id, fecha, actor_authtype, actor_authid, cupo_diario) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


async def insertar_movimientos(cur: Cursor, rows: Sequence[MovimientoNuevo]) -> list[int]:
    """The one ledger insert: every row in one statement, then their legs on the bank's own accounts in another (the
    same transaction: no movement without its other side); returns their movimiento_ids, in order. Several rows must
    each carry a comando_id (the saga's batch), or all be openings of distinct accounts (a batch of new accounts), by
    which their ids are looked up afterwards."""
    if not rows:
        return []
    for r in rows:
        # Double entry is checked where it is written: a movement its legs do not balance is a bug, and rolls back.
        # (Per currency they balance by construction; across currencies every movement's legs sum to −movement.)
        if not r.asientos or sum(a.monto for a in r.asientos) != -firmado(r.operacion, r.monto):
            raise ValueError(f"movement of cuenta {r.cuenta_id} without balancing legs: {r.asientos}")
    ids = await _insertar_filas(cur, rows)
    await cur.executemany(
        _INSERT_ASIENTO,
        [
            (movimiento_id, r.transaccion_id, a.cuenta_interna, a.moneda, a.monto, _naive(r.fecha))
            for r, movimiento_id in zip(rows, ids, strict=True)
            for a in r.asientos
        ],
    )
    return ids


_INSERT_ASIENTO = (
    "INSERT INTO asientos (movimiento_id, transaccion_id, cuenta_interna, moneda, monto, fecha) "
    "VALUES (%s, %s, %s, %s, %s, %s)"
)


async def _insertar_filas(cur: Cursor, rows: Sequence[MovimientoNuevo]) -> list[int]:
    values = [
        (
            r.cuenta_id,
            r.operacion,
            r.monto,
            r.saldo_resultante,
            r.causa,
            r.transaccion_id,
            r.comando_id,
            r.comando_original_id,
            _naive(r.fecha),
            r.actor.authtype if r.actor else None,
            r.actor.authid if r.actor else None,
            r.cupo_diario,
        )
        for r in rows
    ]
    if len(rows) == 1:
        await cur.execute(_INSERT_MOV, values[0])
        return [int(cur.lastrowid)]
    comandos = [r.comando_id for r in rows]
    keys: list[Any]
    if None not in comandos:
        lookup, keys = "SELECT comando_id, movimiento_id FROM movimientos WHERE comando_id IN ({})", comandos
    elif all(r.causa == "APERTURA" for r in rows) and len({r.cuenta_id for r in rows}) == len(rows):
        # An account has one APERTURA movement, ever: its cuenta_id names it.
        lookup = "SELECT cuenta_id, movimiento_id FROM movimientos WHERE causa = 'APERTURA' AND cuenta_id IN ({})"
        keys = [r.cuenta_id for r in rows]
    else:
        raise ValueError("a multi-row ledger insert needs a comando_id on every row (or only openings) to find ids")
    await cur.executemany(_INSERT_MOV, values)
    # Looked up rather than derived from LAST_INSERT_ID(): consecutive ids for a multi-row insert are not
    # guaranteed under MySQL 8's default innodb_autoinc_lock_mode=2.
    await cur.execute(lookup.format(_placeholders(len(keys))), keys)
    ids = {key: int(movimiento_id) for key, movimiento_id in await cur.fetchall()}
    return [ids[k] for k in keys]


async def movimientos(
    cur: Cursor, *, cuenta_id: int, desde: datetime | None, hasta: datetime | None, skip: int, limit: int
) -> tuple[list[Movimiento], int]:
    """A statement in the order the movements happened (movimiento_id; the account's row lock serialises them)."""
    where = ["cuenta_id = %s"]
    args: list[Any] = [cuenta_id]
    if desde is not None:
        where.append("fecha >= %s")
        args.append(_naive(desde))
    if hasta is not None:
        where.append("fecha <= %s")
        args.append(_naive(hasta))
    condition = " AND ".join(where)
    await cur.execute(f"SELECT COUNT(*) FROM movimientos WHERE {condition}", args)
    (total,) = await cur.fetchone()
    await cur.execute(
        f"SELECT {_MOV_COLS} FROM movimientos WHERE {condition} ORDER BY movimiento_id LIMIT %s OFFSET %s",
        [*args, limit, skip],
    )
    return [_movimiento(r) for r in await cur.fetchall()], int(total)


# --- balance movements: the inbox, row locks, saga debits, the net change ------------------------------------------


async def bloquear_cuentas(cur: Cursor, ids: Iterable[int], *, con_limites: bool = False) -> dict[int, CuentaBloqueada]:
    """Row-lock the accounts, always in cuenta_id order, so two batches sharing accounts cannot deadlock.
    `con_limites`: also the daily limits in force (the account's override, else its tipo's)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    await cur.execute(
        "SELECT cuenta_id, cliente_id, numero_cuenta, saldo, moneda, estado, eliminada_en IS NOT NULL, "
        "tipo_cuenta_id, limite_retiro_diario, limite_transferencia_diario, retenido "
        f"FROM cuentas WHERE cuenta_id IN ({_placeholders(len(wanted))}) ORDER BY cuenta_id FOR UPDATE",
        wanted,
    )
    rows = await cur.fetchall()
    # The tipos' limits in a plain read of their own: a join in the FOR UPDATE would lock the tipo's row too, and
    # with it every movement of every account of that tipo.
    tipos = await _limites_de_tipos(cur, {r[7] for r in rows}) if con_limites else {}
    return {
        cuenta_id: CuentaBloqueada(
            cuenta_id,
            cliente_id,
            numero,
            saldo,
            moneda,
            estado,
            bool(eliminada),
            LimitesDiarios(retiro, transferencia).sobre(tipos.get(tipo_id, LimitesDiarios())),
            retenido,
        )
        for cuenta_id, cliente_id, numero, saldo, moneda, estado, eliminada, tipo_id, retiro, transferencia, retenido in rows
    }


async def _limites_de_tipos(cur: Cursor, ids: Iterable[int]) -> dict[int, LimitesDiarios]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    await cur.execute(
        "SELECT tipo_cuenta_id, limite_retiro_diario, limite_transferencia_diario FROM tipos_cuenta "
        f"WHERE tipo_cuenta_id IN ({_placeholders(len(wanted))})",
        wanted,
    )
    return {tipo_id: LimitesDiarios(retiro, transf) for tipo_id, retiro, transf in await cur.fetchall()}


async def usados_en_el_dia(
    cur: Cursor, ids: Iterable[int], inicio: datetime, fin: datetime, *, bloqueando: bool = True
) -> dict[tuple[int, Cupo], Decimal]:
    """What the movements in [inicio, fin) used of each daily limit of these accounts: debits minus the reversals
    that gave them back, per (cuenta_id, cupo). One range of the index movimientos_cupo_dia per account and cupo.

    `bloqueando` (under the accounts' row locks, to decide a movement): a locking read, which reads the latest
    committed rows. A plain read would read the transaction's snapshot, which may predate the row lock (the inbox
    was read first) and miss a debit committed meanwhile; the rows it S-locks are the locked accounts' own, which
    only holders of those row locks write."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    await cur.execute(
        "SELECT cuenta_id, cupo_diario, SUM(CASE operacion WHEN 'DEBITO' THEN monto ELSE -monto END) "
        f"FROM movimientos WHERE cuenta_id IN ({_placeholders(len(wanted))}) "
        f"AND cupo_diario IN ({_placeholders(len(CUPOS))}) AND fecha >= %s AND fecha < %s "
        "GROUP BY cuenta_id, cupo_diario" + (" LOCK IN SHARE MODE" if bloqueando else ""),
        [*wanted, *CUPOS, _naive(inicio), _naive(fin)],
    )
    return {(int(cuenta_id), cupo): Decimal(usado) for cuenta_id, cupo, usado in await cur.fetchall()}


async def debitos_saga(cur: Cursor, comando_ids: Iterable[str]) -> dict[str, DebitoSaga]:
    """The saga debits named by RevertirDebito commands, and whether a reversal already gave each back."""
    wanted = sorted(set(comando_ids))
    if not wanted:
        return {}
    marks = _placeholders(len(wanted))
    await cur.execute(
        "SELECT comando_id, cuenta_id, monto, comando_original_id, cupo_diario FROM movimientos "
        f"WHERE (comando_id IN ({marks}) AND operacion = 'DEBITO') OR comando_original_id IN ({marks})",
        [*wanted, *wanted],
    )
    rows = await cur.fetchall()
    revertidos = {original for _, _, _, original, _ in rows if original is not None}
    return {
        comando_id: DebitoSaga(comando_id, cuenta_id, monto, revertido=comando_id in revertidos, cupo=cupo)
        for comando_id, cuenta_id, monto, original, cupo in rows
        if original is None and comando_id in wanted
    }


async def aplicar_deltas(cur: Cursor, deltas: dict[int, Decimal]) -> None:
    """The batch's net change per account in one statement. The deltas were decided under the row locks this
    transaction holds, so nothing is re-checked here (CHECK (saldo >= 0) stays the schema's last line of defence)."""
    if not deltas:
        return
    ids = sorted(deltas)
    case = "CASE cuenta_id " + " ".join("WHEN %s THEN %s" for _ in ids) + " END"
    pairs = [v for i in ids for v in (i, deltas[i])]
    await cur.execute(
        f"UPDATE cuentas SET saldo = saldo + {case} WHERE cuenta_id IN ({_placeholders(len(ids))})", [*pairs, *ids]
    )
    if cur.rowcount != len(ids):
        # The accounts are locked by this transaction: a mismatch is a bug, never a race.
        raise RuntimeError(f"balance update matched {cur.rowcount} of {len(ids)} locked accounts; rolled back")


# --- retenciones (holds) -----------------------------------------------------------------------------------------
# Every write below runs under the account's row lock (bloquear_cuentas), taken first: creating, capturing, voiding
# and expiring a hold are serialized per account, so `cuentas.retenido` always equals Σ of its ACTIVA holds.

_RET_COLS = (
    "r.retencion_id, r.cuenta_id, r.monto, c.moneda, r.estado, r.referencia, r.vence, r.creada_en, r.resuelta_en, "
    "r.monto_capturado, r.movimiento_id, r.actor_authtype, r.actor_authid"
)
_RET_FROM = "FROM retenciones r JOIN cuentas c ON c.cuenta_id = r.cuenta_id"


def _retencion(row: Sequence[Any]) -> Retencion:
    rid, cuenta_id, monto, moneda, estado, referencia, vence, creada, resuelta, capturado, mov, authtype, authid = row
    return Retencion(
        retencion_id=int(rid),
        cuenta_id=int(cuenta_id),
        monto=monto,
        moneda=moneda,
        estado=estado,
        referencia=referencia,
        vence=_aware(vence),
        creada_en=_aware(creada),
        resuelta_en=_aware(resuelta) if resuelta else None,
        monto_capturado=capturado,
        movimiento_id=int(mov) if mov is not None else None,
        actor=AuthContext(authtype, authid) if authtype else None,
    )


async def insertar_retencion(
    cur: Cursor,
    *,
    cuenta_id: int,
    monto: Decimal,
    vence: datetime,
    referencia: str | None,
    creada_en: datetime,
    actor: AuthContext | None,
) -> int:
    """A new ACTIVA hold; the caller adds its monto to the account's retenido in the same transaction."""
    await cur.execute(
        "INSERT INTO retenciones (cuenta_id, monto, estado, referencia, vence, creada_en, actor_authtype, actor_authid) "
        "VALUES (%s, %s, 'ACTIVA', %s, %s, %s, %s, %s)",
        (
            cuenta_id,
            monto,
            referencia,
            _naive(vence),
            _naive(creada_en),
            actor.authtype if actor else None,
            actor.authid if actor else None,
        ),
    )
    return int(cur.lastrowid)


async def retencion(cur: Cursor, cuenta_id: int, retencion_id: int, *, bloquear: bool = False) -> Retencion | None:
    """One hold of the account; `bloquear`: row-locked (the caller already holds the account's lock)."""
    await cur.execute(
        f"SELECT {_RET_COLS} {_RET_FROM} WHERE r.retencion_id = %s AND r.cuenta_id = %s"
        + (" FOR UPDATE" if bloquear else ""),
        (retencion_id, cuenta_id),
    )
    row = await cur.fetchone()
    return _retencion(row) if row else None


async def listar_retenciones(
    cur: Cursor, *, cuenta_id: int, estado: EstadoRetencion | None, skip: int, limit: int
) -> tuple[list[Retencion], int]:
    """Newest first (retencion_id is assigned in creation order)."""
    where = "r.cuenta_id = %s" + (" AND r.estado = %s" if estado else "")
    args: list[Any] = [cuenta_id, estado] if estado else [cuenta_id]
    await cur.execute(f"SELECT COUNT(*) FROM retenciones r WHERE {where}", args)
    (total,) = await cur.fetchone()
    await cur.execute(
        f"SELECT {_RET_COLS} {_RET_FROM} WHERE {where} ORDER BY r.retencion_id DESC LIMIT %s OFFSET %s",
        [*args, limit, skip],
    )
    return [_retencion(r) for r in await cur.fetchall()], int(total)


async def terminar_retencion(
    cur: Cursor,
    *,
    retencion_id: int,
    estado: EstadoRetencion,
    cuando: datetime,
    monto_capturado: Decimal | None = None,
    movimiento_id: int | None = None,
) -> bool:
    """ACTIVA -> `estado`, only if it is still ACTIVA: False when another request or instance ended it first (the
    conditional UPDATE, under the locks, makes every hold end exactly once)."""
    await cur.execute(
        "UPDATE retenciones SET estado = %s, resuelta_en = %s, monto_capturado = %s, movimiento_id = %s "
        "WHERE retencion_id = %s AND estado = 'ACTIVA'",
        (estado, _naive(cuando), monto_capturado, movimiento_id, retencion_id),
    )
    return bool(cur.rowcount == 1)


async def cambiar_retenido(cur: Cursor, *, cuenta_id: int, delta: Decimal) -> None:
    """The account's reserved total moves with its holds (CHECK: 0 <= retenido <= saldo)."""
    await cur.execute("UPDATE cuentas SET retenido = retenido + %s WHERE cuenta_id = %s", (delta, cuenta_id))
    if cur.rowcount != 1:
        raise RuntimeError(f"retenido update matched {cur.rowcount} rows for locked account {cuenta_id}")


async def proximo_vencimiento(cur: Cursor) -> datetime | None:
    """The earliest vence of an ACTIVA hold (the first entry of the expiry index); None when no hold is active."""
    await cur.execute("SELECT MIN(vence) FROM retenciones WHERE estado = 'ACTIVA'")
    row = await cur.fetchone()
    return None if row is None or row[0] is None else _aware(row[0])


async def retenciones_vencidas(cur: Cursor, *, ahora: datetime, limit: int) -> list[tuple[int, int]]:
    """(cuenta_id, retencion_id) of ACTIVA holds due at `ahora`, oldest vence first: a plain read, re-checked under
    the locks by whoever expires them."""
    await cur.execute(
        "SELECT cuenta_id, retencion_id FROM retenciones WHERE estado = 'ACTIVA' AND vence <= %s "
        "ORDER BY vence, retencion_id LIMIT %s",
        (_naive(ahora), limit),
    )
    return [(int(c), int(r)) for c, r in await cur.fetchall()]


# --- what an auditor reads (snapshot.py) ---------------------------------------------------------------------


def _solo(ids: Sequence[int] | None) -> tuple[str, list[int] | None]:
    """A WHERE on cuenta_id for `ids` (None: every account)."""
    if ids is None:
        return "", None
    return f" WHERE cuenta_id IN ({_placeholders(len(ids))})", list(ids)


async def ahora(cur: Cursor) -> datetime:
    """The database's clock (UTC), which stamped every fecha."""
    await cur.execute("SELECT UTC_TIMESTAMP(6)")
    (now,) = await cur.fetchone()
    return _aware(now)


async def saldos(cur: Cursor, ids: Sequence[int] | None) -> list[tuple[int, Decimal, bool, datetime]]:
    """(cuenta_id, saldo, eliminada, fecha_apertura) of every account, deleted ones included."""
    where, args = _solo(ids)
    await cur.execute(f"SELECT cuenta_id, saldo, eliminada_en IS NOT NULL, fecha_apertura FROM cuentas{where}", args)
    return [
        (int(cuenta_id), Decimal(saldo), bool(eliminada), _aware(apertura))
        for cuenta_id, saldo, eliminada, apertura in await cur.fetchall()
    ]


async def saldos_internos(cur: Cursor) -> dict[tuple[str, str], Decimal]:
    """Σ legs per (moneda, cuenta_interna): the bank's own accounts (index-only on asientos_cuenta)."""
    await cur.execute("SELECT moneda, cuenta_interna, SUM(monto) FROM asientos GROUP BY cuenta_interna, moneda")
    return {(moneda, cuenta): Decimal(total) for moneda, cuenta, total in await cur.fetchall()}


async def totales_clientes(cur: Cursor) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """(Σ saldo, Σ retenido) of the customers' accounts per moneda, deleted ones included (they hold 0)."""
    await cur.execute("SELECT moneda, SUM(saldo), SUM(retenido) FROM cuentas GROUP BY moneda")
    rows = await cur.fetchall()
    return {m: Decimal(s) for m, s, _ in rows}, {m: Decimal(r) for m, _, r in rows}


async def movimientos_descuadrados(cur: Cursor, limit: int = 20) -> tuple[list[int], int]:
    """Movements whose legs do not balance them (none, or Σ legs ≠ −movement): the first `limit` ids and how many."""
    await cur.execute(
        "SELECT m.movimiento_id FROM movimientos m LEFT JOIN "
        "(SELECT movimiento_id, SUM(monto) AS suma FROM asientos GROUP BY movimiento_id) a "
        "ON a.movimiento_id = m.movimiento_id "
        "WHERE a.suma IS NULL OR a.suma <> CASE m.operacion WHEN 'CREDITO' THEN -m.monto ELSE m.monto END "
        "ORDER BY m.movimiento_id"
    )
    ids = [int(r[0]) for r in await cur.fetchall()]
    return ids[:limit], len(ids)


async def transito_abierto(cur: Cursor) -> list[tuple[str | None, str, Decimal, datetime]]:
    """Per transaction and currency, the money in TRANSITO not yet credited or given back (transaccion_id, moneda, Σ,
    the first leg's fecha): a transfer's legs there net to 0 once it ended."""
    await cur.execute(
        "SELECT transaccion_id, moneda, SUM(monto), MIN(fecha) FROM asientos WHERE cuenta_interna = 'TRANSITO' "
        "GROUP BY transaccion_id, moneda HAVING SUM(monto) <> 0 ORDER BY MIN(fecha)"
    )
    return [(trx, moneda, Decimal(total), _aware(desde)) for trx, moneda, total, desde in await cur.fetchall()]


async def ledger(cur: Cursor, ids: Sequence[int] | None) -> list[Movimiento]:
    """Every ledger row of these accounts, by account and in the order they happened."""
    where, args = _solo(ids)
    await cur.execute(f"SELECT {_MOV_COLS} FROM movimientos{where} ORDER BY cuenta_id, movimiento_id", args)
    return [_movimiento(r) for r in await cur.fetchall()]


# --- the replica of clientes ----------------------------------------------------------------------------------


async def cliente_replicado(cur: Cursor, cliente_id: int) -> tuple[str | None, bool] | None:
    """(estado, deleted) of a cliente as far as the events received tell; None if none arrived."""
    await cur.execute("SELECT estado, deleted FROM clientes_replica WHERE cliente_id = %s", (cliente_id,))
    row = await cur.fetchone()
    return (row[0], bool(row[1])) if row else None


async def clientes_replicados(cur: Cursor, ids: Iterable[int]) -> dict[int, tuple[str | None, bool]]:
    """A plain read, no row locks: a cliente's events all live in one partition, which one consumer applies at a
    time. (FOR UPDATE would also gap-lock the ids not there yet, and two instances inserting new clientes next to
    each other would then deadlock.)"""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    await cur.execute(
        f"SELECT cliente_id, estado, deleted FROM clientes_replica WHERE cliente_id IN ({_placeholders(len(wanted))})",
        wanted,
    )
    return {r[0]: (r[1], bool(r[2])) for r in await cur.fetchall()}


async def guardar_clientes(cur: Cursor, estados: dict[int, tuple[str | None, bool]]) -> None:
    if not estados:
        return
    await cur.executemany(
        "INSERT INTO clientes_replica (cliente_id, estado, deleted) VALUES (%s, %s, %s) "
        "ON DUPLICATE KEY UPDATE estado = VALUES(estado), deleted = VALUES(deleted)",
        [(cid, estado, deleted) for cid, (estado, deleted) in sorted(estados.items())],
    )
