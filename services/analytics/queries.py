"""The predefined queries behind each analytics path: SQL written once (DuckDB dialect, transpiled for
Athena) over the current-state views, plus how each answer is shaped.

Money is never summed across currencies: every query with money takes `moneda` (PEN by default, USD, EUR,
or `todas`) and answers as the original did for a bank with that one currency: one row per tipo/estado/day,
rankings and `limit` over the whole answer, the dashboard's eight metrics once each. `todas` is the
per-currency split: the same rows for each moneda, PEN then USD then EUR (rankings and their `limit` per
moneda, since amounts in different currencies are not comparable; the plain lists of transactions stay one
list, newest first, `limit` over all of it).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from contracts.money import MONEDAS

Row = dict[str, Any]
Shape = Callable[[list[Row]], list[Row]]

TODAS = "todas"
MonedaConsulta = Literal["PEN", "USD", "EUR", "todas"]  # contracts.money.MONEDAS plus the split

_MONEDAS_VALUES = ", ".join(f"({i}, '{m}')" for i, m in enumerate(MONEDAS, start=1))
# The asked currencies as a table (orden, moneda): a currency without rows still answers its zeros.
_MONEDAS = f"SELECT * FROM (VALUES {_MONEDAS_VALUES}) AS m(orden, moneda) WHERE moneda IN ({{monedas}})"


def _orden(column: str) -> str:
    """PEN, USD, EUR (the order of contracts.money.MONEDAS), not alphabetical."""
    return f"CASE {column} " + " ".join(f"WHEN '{m}' THEN {i}" for i, m in enumerate(MONEDAS, start=1)) + " END"


def _same(rows: list[Row]) -> list[Row]:
    return rows


def _dashboard(rows: list[Row]) -> list[Row]:
    """One metric per row as the original dashboard ({metrica, valor, categoria}), plus its moneda (None for
    the clientes counts, which have none)."""
    return [
        {
            "metrica": r["metrica"],
            "valor": r["monto"] if r["monto"] is not None else r["cantidad"],
            "categoria": r["categoria"],
            "moneda": r["moneda"],
        }
        for r in rows
    ]


@dataclass(frozen=True)
class Param:
    """A typed parameter (already validated by FastAPI) substituted into the SQL as a literal."""

    name: str
    default: Any
    kind: Any = int
    ge: float | None = None
    le: float | None = None
    description: str = ""


def monedas_sql(moneda: str) -> str:
    """`moneda` -> the SQL list of the currencies it asks for: 'PEN', or 'PEN', 'USD', 'EUR' for todas."""
    if moneda == TODAS:
        return ", ".join(f"'{m}'" for m in MONEDAS)
    if moneda not in MONEDAS:  # FastAPI refused it already; never let a stray value into the SQL
        raise ValueError(f"unknown moneda {moneda!r}")
    return f"'{moneda}'"


@dataclass(frozen=True)
class Predefined:
    name: str
    paths: tuple[str, ...]
    description: str
    sql: str
    params: tuple[Param, ...] = ()
    shape: Shape = field(default=_same)

    def render(self, values: dict[str, Any]) -> str:
        """Parameters are already typed and bounded; Decimals are written plainly (never 1E+4)."""
        args: dict[str, str | int] = {}
        for key, value in values.items():
            if key == "moneda":
                args["monedas"] = monedas_sql(value)
            else:
                args[key] = format(value, "f") if isinstance(value, Decimal) else int(value)
        return self.sql.format(**args)


LIMIT_50 = Param("limit", 50, ge=1, le=500, description="rows to return")
LIMIT_20 = Param("limit", 20, ge=1, le=100, description="rows to return (per moneda with moneda=todas)")
LIMIT_RANKING = Param("limit", 50, ge=1, le=500, description="rows to return (per moneda with moneda=todas)")
MONEDA = Param(
    "moneda",
    "PEN",
    MonedaConsulta,
    description="the one currency to answer in (PEN, USD, EUR); `todas`: the same answer for each currency",
)

# Money volumes are NET of reversals: a COMPLETADA reversal and the transaction it gave back cancel out, so both are
# left out of every volume, average, minimum and maximum (counting both would count the same money twice, or
# count money that was returned). Counts still count every transaction: a reversal is its own transaction, under its
# own (mirror) tipo. `reversiones` / `revertidas` / `volumen_revertido` say how much was reversed.
_NETA = "reversion_de IS NULL AND revertida_por IS NULL"
_COMPLETADA = f"CASE WHEN estado = 'COMPLETADA' AND {_NETA} THEN monto END"

_T_COMPLETADA = (
    "CASE WHEN t.estado = 'COMPLETADA' AND t.reversion_de IS NULL AND t.revertida_por IS NULL THEN t.monto END"
)

DASHBOARD = f"""
WITH c AS (SELECT * FROM clientes WHERE NOT eliminado),
monedas AS ({_MONEDAS}),
k AS (SELECT * FROM cuentas WHERE NOT eliminada),
cuentas_m AS (
    SELECT m.orden, m.moneda, COUNT(k.cuenta_id) AS cantidad, COALESCE(SUM(k.saldo), 0) AS total,
           COALESCE(CAST(AVG(k.saldo) AS DECIMAL(15, 2)), 0) AS promedio
    FROM monedas m LEFT JOIN k ON k.moneda = m.moneda GROUP BY m.orden, m.moneda
),
transacciones_m AS (
    SELECT m.orden, m.moneda, COUNT(t.transaccion_id) AS cantidad,
           COALESCE(SUM({_T_COMPLETADA}), 0) AS volumen,
           COALESCE(CAST(AVG({_T_COMPLETADA}) AS DECIMAL(15, 2)), 0) AS promedio
    FROM monedas m LEFT JOIN transacciones t ON t.moneda = m.moneda GROUP BY m.orden, m.moneda
),
metricas AS (
    SELECT 10 AS orden, 'Total Clientes' AS metrica, 'clientes' AS categoria, CAST(NULL AS VARCHAR) AS moneda,
           COUNT(*) AS cantidad, CAST(NULL AS DECIMAL(38, 2)) AS monto FROM c
    UNION ALL
    SELECT 20 + orden, 'Total Cuentas', 'cuentas', moneda, cantidad, NULL FROM cuentas_m
    UNION ALL
    SELECT 30 + orden, 'Saldo Total Banco', 'cuentas', moneda, NULL, total FROM cuentas_m
    UNION ALL
    SELECT 40 + orden, 'Total Transacciones', 'transacciones', moneda, cantidad, NULL FROM transacciones_m
    UNION ALL
    SELECT 50 + orden, 'Volumen Transaccional', 'transacciones', moneda, NULL, volumen FROM transacciones_m
    UNION ALL
    SELECT 60, 'Clientes Activos', 'clientes', NULL, COUNT(*), NULL FROM c WHERE estado = 'activo'
    UNION ALL
    SELECT 70 + orden, 'Saldo Promedio', 'cuentas', moneda, NULL, promedio FROM cuentas_m
    UNION ALL
    SELECT 80 + orden, 'Transacción Promedio', 'transacciones', moneda, NULL, promedio FROM transacciones_m
)
SELECT metrica, categoria, moneda, cantidad, monto FROM metricas ORDER BY orden
"""

CLIENTES_RESUMEN = """
SELECT COUNT(CASE WHEN NOT eliminado THEN 1 END) AS total_clientes,
       COUNT(CASE WHEN NOT eliminado AND estado = 'activo' THEN 1 END) AS clientes_activos,
       COUNT(CASE WHEN NOT eliminado AND estado = 'inactivo' THEN 1 END) AS clientes_inactivos,
       COUNT(CASE WHEN NOT eliminado AND estado = 'bloqueado' THEN 1 END) AS clientes_bloqueados,
       COUNT(CASE WHEN eliminado THEN 1 END) AS clientes_eliminados
FROM clientes
"""

_LISTA = """
SELECT cliente_id, nombre, apellido, email, telefono, estado, fecha_registro, tipo_documento, numero_documento
FROM clientes
WHERE NOT eliminado {filtro}
ORDER BY fecha_registro DESC, cliente_id DESC
LIMIT {{limit}}
"""

CLIENTES_CON_CUENTAS = f"""
WITH por_cliente AS (
    SELECT cliente_id, moneda, COUNT(*) AS total_cuentas,
           COUNT(CASE WHEN estado = 'activa' THEN 1 END) AS cuentas_activas, SUM(saldo) AS saldo_total
    FROM cuentas WHERE NOT eliminada AND moneda IN ({{monedas}}) GROUP BY cliente_id, moneda
), r AS (
    SELECT p.*, ROW_NUMBER() OVER (PARTITION BY p.moneda ORDER BY p.saldo_total DESC, p.cliente_id) AS ranking
    FROM por_cliente p JOIN clientes c ON c.cliente_id = p.cliente_id
    WHERE NOT c.eliminado
)
SELECT c.cliente_id, c.nombre, c.apellido, c.email, c.estado, r.total_cuentas, r.cuentas_activas, r.saldo_total,
       r.moneda
FROM r JOIN clientes c ON c.cliente_id = r.cliente_id
WHERE r.ranking <= {{limit}}
ORDER BY {_orden("r.moneda")}, r.ranking
"""

CUENTAS_RESUMEN = f"""
WITH monedas AS ({_MONEDAS}), k AS (SELECT * FROM cuentas WHERE NOT eliminada)
SELECT m.moneda, COUNT(k.cuenta_id) AS total_cuentas,
       COUNT(CASE WHEN k.estado = 'activa' THEN 1 END) AS cuentas_activas,
       COUNT(CASE WHEN k.estado = 'bloqueada' THEN 1 END) AS cuentas_bloqueadas,
       COUNT(CASE WHEN k.estado = 'cerrada' THEN 1 END) AS cuentas_cerradas,
       COALESCE(SUM(k.saldo), 0) AS saldo_total_banco, CAST(AVG(k.saldo) AS DECIMAL(15, 2)) AS saldo_promedio,
       MIN(k.saldo) AS saldo_minimo, MAX(k.saldo) AS saldo_maximo
FROM monedas m LEFT JOIN k ON k.moneda = m.moneda
GROUP BY m.orden, m.moneda ORDER BY m.orden
"""

CUENTAS_POR_TIPO = f"""
SELECT tipo_cuenta_id, tipo_cuenta_nombre AS tipo_cuenta, moneda, COUNT(*) AS cantidad_cuentas,
       SUM(saldo) AS saldo_total, CAST(AVG(saldo) AS DECIMAL(15, 2)) AS saldo_promedio
FROM cuentas WHERE NOT eliminada AND moneda IN ({{monedas}})
GROUP BY tipo_cuenta_id, tipo_cuenta_nombre, moneda
ORDER BY {_orden("moneda")}, tipo_cuenta_id
"""

TOP_SALDOS = f"""
WITH r AS (
    SELECT k.*, ROW_NUMBER() OVER (PARTITION BY k.moneda ORDER BY k.saldo DESC, k.cuenta_id) AS ranking
    FROM cuentas k WHERE NOT k.eliminada AND k.moneda IN ({{monedas}})
)
SELECT r.moneda, r.ranking, r.cuenta_id, r.numero_cuenta, r.cliente_id, c.nombre, c.apellido, c.email, r.saldo,
       r.tipo_cuenta_nombre AS tipo_cuenta, r.estado, r.fecha_apertura
FROM r LEFT JOIN clientes c ON c.cliente_id = r.cliente_id
WHERE r.ranking <= {{limit}}
ORDER BY {_orden("r.moneda")}, r.ranking
"""

TRANSACCIONES_RESUMEN = f"""
WITH monedas AS ({_MONEDAS})
SELECT m.moneda, COUNT(t.transaccion_id) AS total_transacciones,
       COUNT(CASE WHEN t.estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COUNT(CASE WHEN t.estado = 'FALLIDA' THEN 1 END) AS fallidas,
       COUNT(CASE WHEN t.estado = 'PENDIENTE' THEN 1 END) AS pendientes,
       COUNT(CASE WHEN t.estado = 'CANCELADA' THEN 1 END) AS canceladas,
       COALESCE(SUM({_T_COMPLETADA}), 0) AS volumen_total,
       CAST(AVG({_T_COMPLETADA}) AS DECIMAL(15, 2)) AS monto_promedio,
       MIN({_T_COMPLETADA}) AS monto_minimo, MAX({_T_COMPLETADA}) AS monto_maximo,
       COUNT(CASE WHEN t.estado = 'COMPLETADA' AND t.reversion_de IS NOT NULL THEN 1 END) AS reversiones,
       COUNT(t.revertida_por) AS revertidas,
       COALESCE(SUM(CASE WHEN t.revertida_por IS NOT NULL THEN t.monto END), 0) AS volumen_revertido
FROM monedas m LEFT JOIN transacciones t ON t.moneda = m.moneda
GROUP BY m.orden, m.moneda ORDER BY m.orden
"""

TRANSACCIONES_POR_TIPO = f"""
SELECT tipo, moneda, COUNT(*) AS cantidad,
       COUNT(CASE WHEN estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COUNT(CASE WHEN estado = 'FALLIDA' THEN 1 END) AS fallidas,
       COALESCE(SUM({_COMPLETADA}), 0) AS monto_total,
       CAST(AVG({_COMPLETADA}) AS DECIMAL(15, 2)) AS monto_promedio
FROM transacciones WHERE moneda IN ({{monedas}})
GROUP BY tipo, moneda ORDER BY {_orden("moneda")}, tipo
"""

TRANSACCIONES_POR_ESTADO = f"""
SELECT estado, moneda, COUNT(*) AS cantidad_transacciones, SUM(monto) AS monto_total,
       CAST(AVG(monto) AS DECIMAL(15, 2)) AS monto_promedio
FROM transacciones WHERE moneda IN ({{monedas}})
GROUP BY estado, moneda ORDER BY {_orden("moneda")}, estado
"""

RECIENTES = """
SELECT transaccion_id, id, tipo, monto, moneda, fecha, estado, motivo, descripcion, cuenta_origen_id,
       cuenta_destino_id
FROM transacciones
WHERE moneda IN ({monedas})
ORDER BY fecha DESC, transaccion_id DESC
LIMIT {limit}
"""

DETALLADAS = """
SELECT t.transaccion_id, t.tipo, t.monto, t.moneda, t.fecha, t.estado, t.motivo, t.descripcion,
       t.cuenta_origen_id, co.numero_cuenta AS cuenta_origen, t.cuenta_destino_id, cd.numero_cuenta AS cuenta_destino,
       clo.nombre AS cliente_origen_nombre, clo.apellido AS cliente_origen_apellido,
       cld.nombre AS cliente_destino_nombre, cld.apellido AS cliente_destino_apellido
FROM transacciones t
LEFT JOIN cuentas co ON co.cuenta_id = t.cuenta_origen_id
LEFT JOIN cuentas cd ON cd.cuenta_id = t.cuenta_destino_id
LEFT JOIN clientes clo ON clo.cliente_id = co.cliente_id
LEFT JOIN clientes cld ON cld.cliente_id = cd.cliente_id
WHERE t.moneda IN ({monedas})
ORDER BY t.fecha DESC, t.transaccion_id DESC
LIMIT {limit}
"""

CLIENTES_VIP = f"""
WITH patrimonio AS (
    SELECT cliente_id, moneda, COUNT(*) AS total_cuentas, SUM(saldo) AS patrimonio_total
    FROM cuentas WHERE NOT eliminada AND moneda IN ({{monedas}}) GROUP BY cliente_id, moneda
), participaciones AS (
    SELECT k.cliente_id, k.moneda, t.transaccion_id
    FROM transacciones t JOIN cuentas k ON k.cuenta_id = t.cuenta_origen_id
    UNION ALL
    SELECT k.cliente_id, k.moneda, t.transaccion_id
    FROM transacciones t JOIN cuentas k ON k.cuenta_id = t.cuenta_destino_id
), movimiento AS (
    SELECT cliente_id, moneda, COUNT(DISTINCT transaccion_id) AS total_transacciones
    FROM participaciones GROUP BY cliente_id, moneda
), vip AS (
    SELECT p.*, ROW_NUMBER() OVER (PARTITION BY p.moneda ORDER BY p.patrimonio_total DESC, p.cliente_id) AS ranking
    FROM patrimonio p JOIN clientes c ON c.cliente_id = p.cliente_id
    WHERE p.patrimonio_total >= {{threshold}} AND NOT c.eliminado
)
SELECT v.moneda, v.ranking, c.cliente_id, c.nombre, c.apellido, c.email, v.total_cuentas, v.patrimonio_total,
       COALESCE(m.total_transacciones, 0) AS total_transacciones
FROM vip v
JOIN clientes c ON c.cliente_id = v.cliente_id
LEFT JOIN movimiento m ON m.cliente_id = v.cliente_id AND m.moneda = v.moneda
WHERE v.ranking <= {{limit}}
ORDER BY {_orden("v.moneda")}, v.ranking
"""

ACTIVIDAD_DIARIA = f"""
SELECT CAST(fecha AS DATE) AS fecha, tipo, moneda, COUNT(*) AS cantidad,
       COUNT(CASE WHEN estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COALESCE(SUM({_COMPLETADA}), 0) AS monto_total
FROM transacciones
WHERE CAST(fecha AS DATE) > CURRENT_DATE - INTERVAL {{dias}} DAY AND moneda IN ({{monedas}})
GROUP BY CAST(fecha AS DATE), tipo, moneda
ORDER BY fecha DESC, {_orden("moneda")}, tipo
"""

CLIENTES_POR_ESTADO = """
SELECT CASE WHEN eliminado THEN 'eliminado' ELSE estado END AS estado, COUNT(*) AS cantidad
FROM clientes
GROUP BY CASE WHEN eliminado THEN 'eliminado' ELSE estado END
ORDER BY cantidad DESC, estado
"""

VOLUMEN = f"""
SELECT moneda, tipo, COUNT(*) AS cantidad, SUM(monto) AS volumen, CAST(AVG(monto) AS DECIMAL(15, 2)) AS ticket_promedio
FROM transacciones WHERE estado = 'COMPLETADA' AND {_NETA} AND moneda IN ({{monedas}})
GROUP BY moneda, tipo ORDER BY {_orden("moneda")}, tipo
"""

POR_MES = f"""
SELECT strftime(fecha, '%Y-%m') AS mes, moneda, COUNT(*) AS cantidad,
       COUNT(CASE WHEN estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COALESCE(SUM({_COMPLETADA}), 0) AS monto_total
FROM transacciones
WHERE moneda IN ({{monedas}})
GROUP BY strftime(fecha, '%Y-%m'), moneda
ORDER BY mes DESC, {_orden("moneda")}
"""

RETENCIONES_RESUMEN = f"""
WITH monedas AS ({_MONEDAS})
SELECT m.moneda,
       COUNT(CASE WHEN r.estado = 'ACTIVA' THEN 1 END) AS activas,
       COALESCE(SUM(CASE WHEN r.estado = 'ACTIVA' THEN r.monto END), 0) AS monto_activo,
       COUNT(CASE WHEN r.estado = 'CAPTURADA' THEN 1 END) AS capturadas,
       COALESCE(SUM(r.monto_capturado), 0) AS monto_capturado,
       COUNT(CASE WHEN r.estado = 'LIBERADA' THEN 1 END) AS liberadas,
       COALESCE(SUM(CASE WHEN r.estado = 'LIBERADA' THEN r.monto END), 0) AS monto_liberado,
       COUNT(CASE WHEN r.estado = 'EXPIRADA' THEN 1 END) AS expiradas,
       COALESCE(SUM(CASE WHEN r.estado = 'EXPIRADA' THEN r.monto END), 0) AS monto_expirado
FROM monedas m LEFT JOIN retenciones r ON r.moneda = m.moneda
GROUP BY m.orden, m.moneda ORDER BY m.orden
"""

# Reversals per tipo of the transaction given back: how many were asked for, how many completed, and the money.
REVERSIONES = f"""
WITH r AS (
    SELECT o.tipo AS tipo_original, v.estado, v.monto, v.moneda
    FROM transacciones v JOIN transacciones o ON o.id = v.reversion_de
    WHERE v.reversion_de IS NOT NULL AND v.moneda IN ({{monedas}})
)
SELECT tipo_original, moneda, COUNT(*) AS solicitadas,
       COUNT(CASE WHEN estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COUNT(CASE WHEN estado = 'FALLIDA' THEN 1 END) AS fallidas,
       COALESCE(SUM(CASE WHEN estado = 'COMPLETADA' THEN monto END), 0) AS monto_revertido
FROM r GROUP BY tipo_original, moneda ORDER BY {_orden("moneda")}, tipo_original
"""

# FX transfers by currency pair (origin currency = `moneda`, the filter): what was debited on one side and credited
# on the other. Money sums are of COMPLETADA ones only; the bank's spread is in cuentas' INGRESOS_FX, not here.
FX_POR_PAR = f"""
SELECT moneda AS moneda_origen, moneda_destino, COUNT(*) AS solicitadas,
       COUNT(CASE WHEN estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COUNT(CASE WHEN estado = 'FALLIDA' THEN 1 END) AS fallidas,
       COALESCE(SUM(CASE WHEN estado = 'COMPLETADA' THEN monto END), 0) AS monto_origen,
       COALESCE(SUM(CASE WHEN estado = 'COMPLETADA' THEN monto_destino END), 0) AS monto_destino
FROM transacciones
WHERE cotizacion_id IS NOT NULL AND moneda IN ({{monedas}})
GROUP BY moneda, moneda_destino ORDER BY {_orden("moneda")}, {_orden("moneda_destino")}
"""

PREDEFINED: tuple[Predefined, ...] = (
    Predefined(
        "dashboard_ejecutivo",
        ("/api/dashboard", "/dashboard-ejecutivo"),
        "The original's eight metrics, once each: clientes (bank-wide), cuentas and transacciones in the moneda",
        DASHBOARD,
        (MONEDA,),
        shape=_dashboard,
    ),
    Predefined(
        "clientes_resumen", ("/api/clientes/resumen",), "Clientes by estado (soft-deleted apart)", CLIENTES_RESUMEN
    ),
    Predefined(
        "clientes_lista",
        ("/api/clientes/lista",),
        "Newest clientes with their first identity document",
        _LISTA.format(filtro=""),
        (LIMIT_50,),
    ),
    Predefined(
        "clientes_activos",
        ("/clientes/activos",),
        "Newest active clientes",
        _LISTA.format(filtro="AND estado = 'activo'"),
        (LIMIT_50,),
    ),
    Predefined(
        "clientes_por_estado", ("/clientes-por-estado",), "How many clientes in each estado", CLIENTES_POR_ESTADO
    ),
    Predefined(
        "clientes_con_cuentas",
        ("/api/clientes/con-cuentas",),
        "Clientes with accounts in the moneda: their count and balance there, highest balance first",
        CLIENTES_CON_CUENTAS,
        (MONEDA, LIMIT_RANKING),
    ),
    Predefined(
        "cuentas_resumen", ("/api/cuentas/resumen",), "Accounts and balances in the moneda", CUENTAS_RESUMEN, (MONEDA,)
    ),
    Predefined(
        "cuentas_por_tipo",
        ("/api/cuentas/por-tipo", "/cuentas/por-tipo"),
        "Accounts and balances per account type, in the moneda",
        CUENTAS_POR_TIPO,
        (MONEDA,),
    ),
    Predefined(
        "cuentas_top_saldos",
        ("/api/cuentas/top-saldos", "/top-cuentas"),
        "Highest balances in the moneda",
        TOP_SALDOS,
        (MONEDA, LIMIT_20),
    ),
    Predefined(
        "transacciones_resumen",
        ("/api/transacciones/resumen",),
        "Transactions in the moneda: counts by estado, completed volume",
        TRANSACCIONES_RESUMEN,
        (MONEDA,),
    ),
    Predefined(
        "transacciones_por_tipo",
        ("/api/transacciones/por-tipo",),
        "Transactions per tipo, in the moneda",
        TRANSACCIONES_POR_TIPO,
        (MONEDA,),
    ),
    Predefined(
        "transacciones_por_estado",
        ("/api/transacciones/por-estado",),
        "Transactions per estado, in the moneda",
        TRANSACCIONES_POR_ESTADO,
        (MONEDA,),
    ),
    Predefined(
        "transacciones_recientes",
        ("/api/transacciones/recientes",),
        "Newest transactions in the moneda (todas: in any)",
        RECIENTES,
        (MONEDA, LIMIT_50),
    ),
    Predefined(
        "transacciones_detalladas",
        ("/api/transacciones/detalladas",),
        "Newest transactions in the moneda (todas: in any) with account numbers and owners",
        DETALLADAS,
        (MONEDA, LIMIT_50),
    ),
    Predefined(
        "volumen_transacciones",
        ("/volumen-transacciones",),
        "Completed volume per tipo, in the moneda",
        VOLUMEN,
        (MONEDA,),
    ),
    Predefined(
        "transacciones_por_mes",
        ("/transacciones/por-mes",),
        "Transactions per month, in the moneda",
        POR_MES,
        (MONEDA,),
    ),
    Predefined(
        "analisis_clientes_vip",
        ("/api/analisis/clientes-vip",),
        "Clientes whose balance in the moneda reaches the threshold, highest first",
        CLIENTES_VIP,
        (
            MONEDA,
            Param("threshold", Decimal(10000), Decimal, ge=0, le=1e13, description="minimum balance in the moneda"),
            LIMIT_20,
        ),
    ),
    Predefined(
        "actividad_transaccional_diaria",
        ("/api/analisis/actividad-diaria",),
        "Transactions per day and tipo, in the moneda, over the last `dias` days (UTC)",
        ACTIVIDAD_DIARIA,
        (MONEDA, Param("dias", 30, ge=1, le=3660, description="days back, today included")),
    ),
)

PREDEFINED += (
    Predefined(
        "retenciones_resumen",
        ("/api/retenciones/resumen",),
        "Holds in the moneda: active, captured, voided and expired, how many and how much",
        RETENCIONES_RESUMEN,
        (MONEDA,),
    ),
    Predefined(
        "transacciones_reversiones",
        ("/api/transacciones/reversiones",),
        "Reversals in the moneda per tipo of the transaction given back: asked for, completed, failed, money",
        REVERSIONES,
        (MONEDA,),
    ),
    Predefined(
        "transacciones_fx",
        ("/api/transacciones/fx",),
        "FX transfers from the moneda per currency pair: asked for, completed, failed, money debited and credited",
        FX_POR_PAR,
        (MONEDA,),
    ),
)

BY_NAME: dict[str, Predefined] = {q.name: q for q in PREDEFINED}
