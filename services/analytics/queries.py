"""The predefined queries behind each analytics path: SQL written once (DuckDB dialect, transpiled for
Athena) over the current-state views, plus how each answer is shaped. Money totals are always per moneda."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from contracts.money import MONEDAS

Row = dict[str, Any]
Shape = Callable[[list[Row]], list[Row]]

_MONEDAS_VALUES = ", ".join(f"({i}, '{m}')" for i, m in enumerate(MONEDAS))
_PER_MONEDA = ",\n".join(
    f"COALESCE(SUM(CASE WHEN moneda = '{m}' THEN saldo END), 0) AS saldo_total_{m.lower()}" for m in MONEDAS
)


def _same(rows: list[Row]) -> list[Row]:
    return rows


def fold_money(prefix: str) -> Shape:
    """`<prefix>_pen, <prefix>_usd, ...` columns -> one `<prefix>: {"PEN": ..., "USD": ...}` object."""

    def shape(rows: list[Row]) -> list[Row]:
        out = []
        for row in rows:
            row = dict(row)
            row[prefix] = {m: row.pop(f"{prefix}_{m.lower()}") for m in MONEDAS}
            out.append(row)
        return out

    return shape


def _dashboard(rows: list[Row]) -> list[Row]:
    """One metric per row, as the original dashboard; money metrics one row per moneda."""
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
    kind: type = int
    ge: float | None = None
    le: float | None = None
    description: str = ""


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
        return self.sql.format(**{k: format(v, "f") if isinstance(v, Decimal) else int(v) for k, v in values.items()})


LIMIT_50 = Param("limit", 50, ge=1, le=500, description="rows to return")
LIMIT_20 = Param("limit", 20, ge=1, le=100, description="rows per moneda")

DASHBOARD = f"""
WITH c AS (SELECT * FROM clientes WHERE NOT eliminado),
k AS (SELECT * FROM cuentas WHERE NOT eliminada),
monedas AS (SELECT * FROM (VALUES {_MONEDAS_VALUES}) AS m(orden, moneda)),
metricas AS (
    SELECT 1 AS orden, 'Total Clientes' AS metrica, 'clientes' AS categoria, CAST(NULL AS VARCHAR) AS moneda,
           COUNT(*) AS cantidad, CAST(NULL AS DECIMAL(38, 2)) AS monto FROM c
    UNION ALL
    SELECT 2, 'Clientes Activos', 'clientes', NULL, COUNT(*), NULL FROM c WHERE estado = 'activo'
    UNION ALL
    SELECT 3, 'Total Cuentas', 'cuentas', NULL, COUNT(*), NULL FROM k
    UNION ALL
    SELECT 4, 'Cuentas Activas', 'cuentas', NULL, COUNT(*), NULL FROM k WHERE estado = 'activa'
    UNION ALL
    SELECT 5 * 10 + m.orden, 'Saldo Total Banco', 'cuentas', m.moneda, COUNT(k.cuenta_id), COALESCE(SUM(k.saldo), 0)
    FROM monedas m LEFT JOIN k ON k.moneda = m.moneda GROUP BY m.orden, m.moneda
    UNION ALL
    SELECT 60, 'Total Transacciones', 'transacciones', NULL, COUNT(*), NULL FROM transacciones
    UNION ALL
    SELECT 70, 'Transacciones Completadas', 'transacciones', NULL, COUNT(*), NULL
    FROM transacciones WHERE estado = 'COMPLETADA'
    UNION ALL
    SELECT 80 + m.orden, 'Volumen Transaccional', 'transacciones', m.moneda, COUNT(t.transaccion_id),
           COALESCE(SUM(t.monto), 0)
    FROM monedas m LEFT JOIN transacciones t ON t.moneda = m.moneda AND t.estado = 'COMPLETADA'
    GROUP BY m.orden, m.moneda
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
    SELECT cliente_id, COUNT(*) AS total_cuentas,
           COUNT(CASE WHEN estado = 'activa' THEN 1 END) AS cuentas_activas,
           {_PER_MONEDA}
    FROM cuentas WHERE NOT eliminada GROUP BY cliente_id
)
SELECT c.cliente_id, c.nombre, c.apellido, c.email, c.estado, p.total_cuentas, p.cuentas_activas,
       {", ".join(f"p.saldo_total_{m.lower()}" for m in MONEDAS)}
FROM clientes c JOIN por_cliente p ON p.cliente_id = c.cliente_id
WHERE NOT c.eliminado
ORDER BY p.total_cuentas DESC, c.cliente_id
LIMIT {{limit}}
"""

CUENTAS_RESUMEN = """
SELECT moneda, COUNT(*) AS total_cuentas,
       COUNT(CASE WHEN estado = 'activa' THEN 1 END) AS cuentas_activas,
       COUNT(CASE WHEN estado = 'bloqueada' THEN 1 END) AS cuentas_bloqueadas,
       COUNT(CASE WHEN estado = 'cerrada' THEN 1 END) AS cuentas_cerradas,
       SUM(saldo) AS saldo_total_banco, CAST(AVG(saldo) AS DECIMAL(15, 2)) AS saldo_promedio,
       MIN(saldo) AS saldo_minimo, MAX(saldo) AS saldo_maximo
FROM cuentas WHERE NOT eliminada
GROUP BY moneda ORDER BY moneda
"""

CUENTAS_POR_TIPO = """
SELECT tipo_cuenta_id, tipo_cuenta_nombre AS tipo_cuenta, moneda, COUNT(*) AS cantidad_cuentas,
       SUM(saldo) AS saldo_total, CAST(AVG(saldo) AS DECIMAL(15, 2)) AS saldo_promedio
FROM cuentas WHERE NOT eliminada
GROUP BY tipo_cuenta_id, tipo_cuenta_nombre, moneda
ORDER BY tipo_cuenta_id, moneda
"""

TOP_SALDOS = """
WITH r AS (
    SELECT k.*, ROW_NUMBER() OVER (PARTITION BY k.moneda ORDER BY k.saldo DESC, k.cuenta_id) AS ranking
    FROM cuentas k WHERE NOT k.eliminada
)
SELECT r.moneda, r.ranking, r.cuenta_id, r.numero_cuenta, r.cliente_id, c.nombre, c.apellido, c.email, r.saldo,
       r.tipo_cuenta_nombre AS tipo_cuenta, r.estado, r.fecha_apertura
FROM r LEFT JOIN clientes c ON c.cliente_id = r.cliente_id
WHERE r.ranking <= {limit}
ORDER BY r.moneda, r.ranking
"""

_COMPLETADA = "CASE WHEN estado = 'COMPLETADA' THEN monto END"

TRANSACCIONES_RESUMEN = f"""
SELECT moneda, COUNT(*) AS total_transacciones,
       COUNT(CASE WHEN estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COUNT(CASE WHEN estado = 'FALLIDA' THEN 1 END) AS fallidas,
       COUNT(CASE WHEN estado = 'PENDIENTE' THEN 1 END) AS pendientes,
       COUNT(CASE WHEN estado = 'CANCELADA' THEN 1 END) AS canceladas,
       COALESCE(SUM({_COMPLETADA}), 0) AS volumen_total,
       CAST(AVG({_COMPLETADA}) AS DECIMAL(15, 2)) AS monto_promedio,
       MIN({_COMPLETADA}) AS monto_minimo, MAX({_COMPLETADA}) AS monto_maximo
FROM transacciones
GROUP BY moneda ORDER BY moneda
"""

TRANSACCIONES_POR_TIPO = f"""
SELECT tipo, moneda, COUNT(*) AS cantidad,
       COUNT(CASE WHEN estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COUNT(CASE WHEN estado = 'FALLIDA' THEN 1 END) AS fallidas,
       COALESCE(SUM({_COMPLETADA}), 0) AS monto_total,
       CAST(AVG({_COMPLETADA}) AS DECIMAL(15, 2)) AS monto_promedio
FROM transacciones
GROUP BY tipo, moneda ORDER BY tipo, moneda
"""

TRANSACCIONES_POR_ESTADO = """
SELECT estado, moneda, COUNT(*) AS cantidad_transacciones, SUM(monto) AS monto_total,
       CAST(AVG(monto) AS DECIMAL(15, 2)) AS monto_promedio
FROM transacciones
GROUP BY estado, moneda ORDER BY estado, moneda
"""

RECIENTES = """
SELECT transaccion_id, id, tipo, monto, moneda, fecha, estado, motivo, descripcion, cuenta_origen_id,
       cuenta_destino_id
FROM transacciones
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
ORDER BY t.fecha DESC, t.transaccion_id DESC
LIMIT {limit}
"""

CLIENTES_VIP = """
WITH patrimonio AS (
    SELECT cliente_id, moneda, COUNT(*) AS total_cuentas, SUM(saldo) AS patrimonio_total
    FROM cuentas WHERE NOT eliminada GROUP BY cliente_id, moneda
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
    WHERE p.patrimonio_total >= {threshold} AND NOT c.eliminado
)
SELECT v.moneda, v.ranking, c.cliente_id, c.nombre, c.apellido, c.email, v.total_cuentas, v.patrimonio_total,
       COALESCE(m.total_transacciones, 0) AS total_transacciones
FROM vip v
JOIN clientes c ON c.cliente_id = v.cliente_id
LEFT JOIN movimiento m ON m.cliente_id = v.cliente_id AND m.moneda = v.moneda
WHERE v.ranking <= {limit}
ORDER BY v.moneda, v.ranking
"""

ACTIVIDAD_DIARIA = f"""
SELECT CAST(fecha AS DATE) AS fecha, tipo, moneda, COUNT(*) AS cantidad,
       COUNT(CASE WHEN estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COALESCE(SUM({_COMPLETADA}), 0) AS monto_total
FROM transacciones
WHERE CAST(fecha AS DATE) > CURRENT_DATE - INTERVAL {{dias}} DAY
GROUP BY CAST(fecha AS DATE), tipo, moneda
ORDER BY fecha DESC, tipo, moneda
"""

CLIENTES_POR_ESTADO = """
SELECT CASE WHEN eliminado THEN 'eliminado' ELSE estado END AS estado, COUNT(*) AS cantidad
FROM clientes
GROUP BY CASE WHEN eliminado THEN 'eliminado' ELSE estado END
ORDER BY cantidad DESC, estado
"""

VOLUMEN = """
SELECT moneda, tipo, COUNT(*) AS cantidad, SUM(monto) AS volumen, CAST(AVG(monto) AS DECIMAL(15, 2)) AS ticket_promedio
FROM transacciones WHERE estado = 'COMPLETADA'
GROUP BY moneda, tipo ORDER BY moneda, tipo
"""

POR_MES = f"""
SELECT strftime(fecha, '%Y-%m') AS mes, moneda, COUNT(*) AS cantidad,
       COUNT(CASE WHEN estado = 'COMPLETADA' THEN 1 END) AS completadas,
       COALESCE(SUM({_COMPLETADA}), 0) AS monto_total
FROM transacciones
GROUP BY strftime(fecha, '%Y-%m'), moneda
ORDER BY mes DESC, moneda
"""

PREDEFINED: tuple[Predefined, ...] = (
    Predefined(
        "dashboard_ejecutivo",
        ("/api/dashboard", "/dashboard-ejecutivo"),
        "Key figures: clientes, cuentas, transacciones; balances and completed volume per moneda",
        DASHBOARD,
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
        "Clientes with accounts: counts and balance per moneda",
        CLIENTES_CON_CUENTAS,
        (LIMIT_50,),
        fold_money("saldo_total"),
    ),
    Predefined("cuentas_resumen", ("/api/cuentas/resumen",), "Accounts and balances per moneda", CUENTAS_RESUMEN),
    Predefined(
        "cuentas_por_tipo",
        ("/api/cuentas/por-tipo", "/cuentas/por-tipo"),
        "Accounts and balances per account type and moneda",
        CUENTAS_POR_TIPO,
    ),
    Predefined(
        "cuentas_top_saldos",
        ("/api/cuentas/top-saldos", "/top-cuentas"),
        "Highest balances, ranked within each moneda",
        TOP_SALDOS,
        (LIMIT_20,),
    ),
    Predefined(
        "transacciones_resumen",
        ("/api/transacciones/resumen",),
        "Transactions per moneda: counts by estado, completed volume",
        TRANSACCIONES_RESUMEN,
    ),
    Predefined(
        "transacciones_por_tipo",
        ("/api/transacciones/por-tipo",),
        "Transactions per tipo and moneda",
        TRANSACCIONES_POR_TIPO,
    ),
    Predefined(
        "transacciones_por_estado",
        ("/api/transacciones/por-estado",),
        "Transactions per estado and moneda",
        TRANSACCIONES_POR_ESTADO,
    ),
    Predefined(
        "transacciones_recientes", ("/api/transacciones/recientes",), "Newest transactions", RECIENTES, (LIMIT_50,)
    ),
    Predefined(
        "transacciones_detalladas",
        ("/api/transacciones/detalladas",),
        "Newest transactions with account numbers and owners",
        DETALLADAS,
        (LIMIT_50,),
    ),
    Predefined(
        "volumen_transacciones",
        ("/volumen-transacciones",),
        "Completed volume per moneda and tipo",
        VOLUMEN,
    ),
    Predefined("transacciones_por_mes", ("/transacciones/por-mes",), "Transactions per month and moneda", POR_MES),
    Predefined(
        "analisis_clientes_vip",
        ("/api/analisis/clientes-vip",),
        "Clientes whose balance in one moneda reaches the threshold, ranked within each moneda",
        CLIENTES_VIP,
        (
            Param("threshold", Decimal(10000), Decimal, ge=0, le=1e13, description="minimum balance in one moneda"),
            LIMIT_20,
        ),
    ),
    Predefined(
        "actividad_transaccional_diaria",
        ("/api/analisis/actividad-diaria",),
        "Transactions per day, tipo and moneda over the last `dias` days (UTC)",
        ACTIVIDAD_DIARIA,
        (Param("dias", 30, ge=1, le=3660, description="days back, today included"),),
    ),
)

BY_NAME: dict[str, Predefined] = {q.name: q for q in PREDEFINED}
