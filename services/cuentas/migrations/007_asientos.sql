-- Double entry (issue 15, item 5): the bank's own accounts per currency. Every ledger movement of a customer gets, in
-- the same transaction, its legs (asientos) on internal accounts, signed so that per currency the movement (CREDITO +,
-- DEBITO −) plus its legs sum to 0; so Σ customers' saldo + Σ asientos = 0 per currency, always. Insert-only: an
-- internal account's balance is the Σ of its legs (no balance row, which every movement would have to update and so
-- serialize). Every statement is idempotent (MySQL DDL auto-commits; a start-up that dies half-way runs it again).
CREATE TABLE IF NOT EXISTS asientos (
    asiento_id     BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    movimiento_id  BIGINT NOT NULL,
    transaccion_id VARCHAR(100) NULL,
    cuenta_interna VARCHAR(24) NOT NULL,
    moneda         CHAR(3) NOT NULL,
    monto          DECIMAL(15,2) NOT NULL,
    fecha          DATETIME(6) NOT NULL,
    KEY asientos_movimiento (movimiento_id),
    -- An internal account's balance per currency: an index-only range sum.
    KEY asientos_cuenta (cuenta_interna, moneda, monto),
    -- The audit's money in transit per transfer.
    KEY asientos_transaccion (transaccion_id, cuenta_interna),
    CONSTRAINT asientos_movimiento_fk FOREIGN KEY (movimiento_id) REFERENCES movimientos (movimiento_id),
    CONSTRAINT asientos_moneda CHECK (moneda IN ('PEN', 'USD', 'EUR')),
    CONSTRAINT asientos_cuenta_interna CHECK (cuenta_interna IN ('CAJA', 'TRANSITO', 'SERVICIOS_POR_PAGAR',
        'LIQUIDACION_TARJETAS', 'POSICION_FX', 'INGRESOS_FX', 'INGRESOS_COMISIONES', 'GASTOS_INTERESES'))
) ENGINE=InnoDB;

-- The backfill below pairs a saga's debit with its credit by transaccion_id.
-- MySQL 8 has no ADD INDEX IF NOT EXISTS: the ALTER is prepared only while the index is missing.
SET @movimientos_trx_idx = IF(
    (SELECT COUNT(*) FROM information_schema.STATISTICS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'movimientos' AND INDEX_NAME = 'movimientos_transaccion') = 0,
    'ALTER TABLE movimientos ADD INDEX movimientos_transaccion (transaccion_id, operacion)',
    'DO 0'
);
PREPARE movimientos_trx_idx FROM @movimientos_trx_idx;
EXECUTE movimientos_trx_idx;
DEALLOCATE PREPARE movimientos_trx_idx;

-- Movements written before this table: one leg each, so the invariant holds on a stack that ran before. Only movements
-- without legs yet, so it may run again. The saga's commands of that time did not say their kind, so it is read off
-- the ledger: a saga row whose transaction also has a row of the other direction (its credit, or its reversal), or a
-- debit that counted against the transfer limit, was a transfer's (TRANSITO); a lone saga debit was a RETIRO or a
-- PAGO_SERVICIO and a lone credit a DEPOSITO (both CAJA: the two debits cannot be told apart any more).
INSERT INTO asientos (movimiento_id, transaccion_id, cuenta_interna, moneda, monto, fecha)
SELECT m.movimiento_id, m.transaccion_id,
    CASE
        WHEN m.causa = 'CAPTURA' THEN 'LIQUIDACION_TARJETAS'
        WHEN m.causa = 'REVERSION' THEN 'TRANSITO'
        WHEN m.causa <> 'SAGA' THEN 'CAJA'
        WHEN m.operacion = 'DEBITO' AND m.cupo_diario = 'TRANSFERENCIA' THEN 'TRANSITO'
        WHEN EXISTS (SELECT 1 FROM movimientos o WHERE o.transaccion_id = m.transaccion_id
                     AND o.operacion <> m.operacion) THEN 'TRANSITO'
        ELSE 'CAJA'
    END,
    c.moneda,
    CASE m.operacion WHEN 'CREDITO' THEN -m.monto ELSE m.monto END,
    m.fecha
FROM movimientos m
JOIN cuentas c ON c.cuenta_id = m.cuenta_id
WHERE NOT EXISTS (SELECT 1 FROM asientos a WHERE a.movimiento_id = m.movimiento_id);
