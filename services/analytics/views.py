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
    "transaccion_id, id, kafka_offset, tipo, monto, moneda, cuenta_origen_id, cuenta_destino_id, descripcion, fecha, "
    "reversion_de, monto_destino, moneda_destino, cotizacion_id"
)
_FINAL = "cliente_origen_id, cliente_destino_id, numero_cuenta_origen, numero_cuenta_destino"

# A reversal is its own transaction (the mirror tipo, `reversion_de` = the id it gives back); `revertida_por` is the
# id of the COMPLETADA reversal of a transaction, derived here so every query can tell both apart. An FX transfer
# (`cotizacion_id` set) debits `monto` in `moneda` and credits `monto_destino` in `moneda_destino`.
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
), actual AS (
    SELECT * FROM ultimo WHERE n = 1
), reversiones AS (
    SELECT reversion_de, MIN(id) AS revertida_por FROM actual
    WHERE estado = 'COMPLETADA' AND reversion_de IS NOT NULL GROUP BY reversion_de
)
SELECT a.transaccion_id, a.id, a.tipo, a.monto, a.moneda, a.cuenta_origen_id, a.cuenta_destino_id, a.descripcion,
       a.fecha, a.estado, a.motivo, a.cliente_origen_id, a.cliente_destino_id, a.numero_cuenta_origen,
       a.numero_cuenta_destino, a.reversion_de, r.revertida_por, a.monto_destino, a.moneda_destino, a.cotizacion_id
FROM actual a LEFT JOIN reversiones r ON r.reversion_de = a.id
"""

# One row per hold: its creation and how it ended (none yet: ACTIVA, as cuentas reports it until its expiry event).
# An end wins over the creation whatever their order; the first end is the one (a hold ends once).
RETENCIONES = """
WITH fin AS (
    SELECT retencion_id, kafka_offset, 'CAPTURADA' AS estado, monto AS monto_capturado, fecha FROM retencion_capturada
    UNION ALL
    SELECT retencion_id, kafka_offset, 'LIBERADA', CAST(NULL AS DECIMAL(15, 2)), fecha FROM retencion_liberada
    UNION ALL
    SELECT retencion_id, kafka_offset, 'EXPIRADA', CAST(NULL AS DECIMAL(15, 2)), fecha FROM retencion_expirada
), primer_fin AS (
    SELECT fin.*, ROW_NUMBER() OVER (PARTITION BY retencion_id ORDER BY kafka_offset) AS n FROM fin
), alta AS (
    SELECT retencion_id, cuenta_id, cliente_id, monto, moneda, vence, referencia, fecha,
           ROW_NUMBER() OVER (PARTITION BY retencion_id ORDER BY kafka_offset) AS n
    FROM retencion_creada
)
SELECT a.retencion_id, a.cuenta_id, a.cliente_id, a.monto, a.moneda, a.vence, a.referencia, a.fecha,
       COALESCE(f.estado, 'ACTIVA') AS estado, f.monto_capturado, f.fecha AS fecha_fin
FROM alta a LEFT JOIN primer_fin f ON f.retencion_id = a.retencion_id AND f.n = 1
WHERE a.n = 1
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
    "retenciones": RETENCIONES,
}

# What a custom query may read: the event tables and the views.
QUERYABLE: frozenset[str] = frozenset((*TABLES, *VIEWS))
