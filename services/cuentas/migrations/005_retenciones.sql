-- Holds (retenciones, two-phase like a card authorization): an amount reserved on an account until captured (a DEBITO
-- ledger row, causa CAPTURA), voided or expired at `vence`. Every change of a hold happens under its account's row
-- lock, together with the account's `retenido` (Σ of its ACTIVA holds), so a debit decided under that lock sees the
-- exact available balance saldo − retenido. Every statement is idempotent (MySQL DDL auto-commits).
CREATE TABLE IF NOT EXISTS retenciones (
    retencion_id    BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    cuenta_id       BIGINT NOT NULL,
    monto           DECIMAL(15,2) NOT NULL,
    estado          VARCHAR(10) NOT NULL DEFAULT 'ACTIVA',
    referencia      VARCHAR(100) NULL,
    vence           DATETIME(6) NOT NULL,
    creada_en       DATETIME(6) NOT NULL,
    -- When it stopped being ACTIVA, and (CAPTURADA) how much was captured by which ledger row.
    resuelta_en     DATETIME(6) NULL,
    monto_capturado DECIMAL(15,2) NULL,
    movimiento_id   BIGINT NULL,
    actor_authtype  VARCHAR(32) NULL,
    actor_authid    VARCHAR(255) NULL,
    KEY retenciones_cuenta (cuenta_id, retencion_id),
    -- The expiry task's scan: the ACTIVA holds whose vence has passed.
    KEY retenciones_vencimiento (estado, vence),
    CONSTRAINT retenciones_cuenta_fk FOREIGN KEY (cuenta_id) REFERENCES cuentas (cuenta_id),
    CONSTRAINT retenciones_movimiento_fk FOREIGN KEY (movimiento_id) REFERENCES movimientos (movimiento_id),
    CONSTRAINT retenciones_monto CHECK (monto > 0),
    CONSTRAINT retenciones_capturado CHECK (monto_capturado IS NULL OR (monto_capturado > 0 AND monto_capturado <= monto)),
    CONSTRAINT retenciones_estado CHECK (estado IN ('ACTIVA', 'CAPTURADA', 'LIBERADA', 'EXPIRADA'))
) ENGINE=InnoDB;

-- The account's reserved total, kept beside saldo under the same row lock; the database refuses a state where the
-- holds reserve more than the account holds (the last line of defence, like saldo >= 0).
-- MySQL 8 has no ADD COLUMN IF NOT EXISTS: the ALTER is prepared only while the column is missing.
SET @cuentas_retenido = IF(
    (SELECT COUNT(*) FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'cuentas' AND COLUMN_NAME = 'retenido') = 0,
    'ALTER TABLE cuentas ADD COLUMN retenido DECIMAL(15,2) NOT NULL DEFAULT 0.00, ADD CONSTRAINT cuentas_retenido CHECK (retenido >= 0 AND retenido <= saldo)',
    'DO 0'
);
PREPARE cuentas_retenido FROM @cuentas_retenido;
EXECUTE cuentas_retenido;
DEALLOCATE PREPARE cuentas_retenido;

-- A captured hold is a ledger row of its own kind (causa CAPTURA). Dropping and adding the check in one ALTER is
-- atomic and may run again.
ALTER TABLE movimientos DROP CONSTRAINT movimientos_causa,
    ADD CONSTRAINT movimientos_causa CHECK (causa IN ('APERTURA', 'DEPOSITO', 'RETIRO', 'SAGA', 'REVERSION', 'CAPTURA'));
