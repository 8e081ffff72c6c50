"""The lake's current-state views, defined ONCE (DuckDB dialect; transpiled by sqlglot for Athena).

Each aggregate's events share a Kafka partition (key = aggregate id), so `kafka_offset` orders them
truly; the latest event per id is the current state. Soft deletions become flags, not missing rows.
"""

from contracts.lake import TABLES

CLIENTES = """
WITH cambios AS (
    SELECT cliente_id, kafka_offset, nombre, apellido, email, telefono, estado FROM cliente_creado
    UNION ALL
    SELECT cliente_id, kafka_offset, nombre, apellido, email, telefono, estado FROM cliente_actualizado
), ultimo AS (
    SELECT cliente_id, nombre, apellido, email, telefono, estado,
           ROW_NUMBER() OVER (PARTITION BY cliente_id ORDER BY kafka_offset DESC) AS n
    FROM cambios
), alta AS (
    SELECT cliente_id, fecha_registro, documentos,
           ROW_NUMBER() OVER (PARTITION BY cliente_id ORDER BY kafka_offset) AS n
    FROM cliente_creado
)
SELECT u.cliente_id, u.nombre, u.apellido, u.email, u.telefono, u.estado, a.fecha_registro,
       CASE WHEN array_length(a.documentos) > 0 THEN a.documentos[1].tipo_documento END AS tipo_documento,
       CASE WHEN array_length(a.documentos) > 0 THEN a.documentos[1].numero_documento END AS numero_documento,
       a.documentos,
       e.cliente_id IS NOT NULL AS eliminado
FROM ultimo u
JOIN alta a ON a.cliente_id = u.cliente_id AND a.n = 1
LEFT JOIN (SELECT DISTINCT cliente_id FROM cliente_eliminado) e ON e.cliente_id = u.cliente_id
WHERE u.n = 1
"""

CUENTAS = """
WITH saldos AS (
    SELECT cuenta_id, kafka_offset, saldo FROM cuenta_abierta
    UNION ALL
    SELECT cuenta_id, kafka_offset, saldo FROM saldo_actualizado
), ultimo_saldo AS (
    SELECT cuenta_id, saldo, ROW_NUMBER() OVER (PARTITION BY cuenta_id ORDER BY kafka_offset DESC) AS n
    FROM saldos
), estados AS (
    SELECT cuenta_id, kafka_offset, estado FROM cuenta_abierta
    UNION ALL
    SELECT cuenta_id, kafka_offset, estado FROM estado_cuenta_cambiado
), ultimo_estado AS (
    SELECT cuenta_id, estado, ROW_NUMBER() OVER (PARTITION BY cuenta_id ORDER BY kafka_offset DESC) AS n
    FROM estados
), apertura AS (
    SELECT cuenta_id, cliente_id, tipo_cuenta_id, tipo_cuenta_nombre, numero_cuenta, moneda, fecha_apertura,
           ROW_NUMBER() OVER (PARTITION BY cuenta_id ORDER BY kafka_offset) AS n
    FROM cuenta_abierta
)
SELECT a.cuenta_id, a.cliente_id, a.tipo_cuenta_id, a.tipo_cuenta_nombre, a.numero_cuenta, s.saldo, a.moneda,
       e.estado, a.fecha_apertura, d.cuenta_id IS NOT NULL AS eliminada
FROM apertura a
JOIN ultimo_saldo s ON s.cuenta_id = a.cuenta_id AND s.n = 1
JOIN ultimo_estado e ON e.cuenta_id = a.cuenta_id AND e.n = 1
LEFT JOIN (SELECT DISTINCT cuenta_id FROM cuenta_eliminada) d ON d.cuenta_id = a.cuenta_id
WHERE a.n = 1
"""

_TRANSACCION = (
    "transaccion_id, id, kafka_offset, tipo, monto, moneda, cuenta_origen_id, cuenta_destino_id, descripcion, fecha"
)
_FINAL = "cliente_origen_id, cliente_destino_id, numero_cuenta_origen, numero_cuenta_destino"

TRANSACCIONES = f"""
WITH eventos AS (
    SELECT {_TRANSACCION}, 'PENDIENTE' AS estado, CAST(NULL AS VARCHAR) AS motivo,
           CAST(NULL AS BIGINT) AS cliente_origen_id, CAST(NULL AS BIGINT) AS cliente_destino_id,
           CAST(NULL AS VARCHAR) AS numero_cuenta_origen, CAST(NULL AS VARCHAR) AS numero_cuenta_destino
    FROM transaccion_solicitada
    UNION ALL
    SELECT {_TRANSACCION}, estado, CAST(NULL AS VARCHAR) AS motivo, {_FINAL} FROM transaccion_registrada
    UNION ALL
    SELECT {_TRANSACCION}, estado, motivo, {_FINAL} FROM transaccion_fallida
), ultimo AS (
    SELECT eventos.*, ROW_NUMBER() OVER (PARTITION BY transaccion_id ORDER BY kafka_offset DESC) AS n FROM eventos
)
SELECT transaccion_id, id, tipo, monto, moneda, cuenta_origen_id, cuenta_destino_id, descripcion, fecha, estado,
       motivo, {_FINAL}
FROM ultimo
WHERE n = 1
"""

MOVIMIENTOS = """
SELECT cuenta_id, cliente_id, numero_cuenta, movimiento_id, operacion, causa, monto, saldo, moneda, fecha,
       transaccion_id
FROM saldo_actualizado
"""

# Name -> SELECT; order matters (none depends on another today, but keep dependencies first).
VIEWS: dict[str, str] = {
    "clientes": CLIENTES,
    "cuentas": CUENTAS,
    "transacciones": TRANSACCIONES,
    "movimientos": MOVIMIENTOS,
}

# What a custom query may read: the event tables and the views.
QUERYABLE: frozenset[str] = frozenset((*TABLES, *VIEWS))
