-- Daily limits (issue 15, item 3). Per tipo de cuenta, overridable per cuenta: a daily withdrawal limit (teller
-- retiro, RETIRO and PAGO_SERVICIO debits) and a daily transfer-out limit (TRANSFERENCIA debits), in the account's
-- own currency, counted per ledger day in America/Lima. On tipos_cuenta NULL = no limit; on cuentas NULL = no
-- override (the tipo's limit applies).
-- Every ledger row that counts against a limit says which (movimientos.cupo_diario: RETIRO or TRANSFERENCIA; a
-- REVERSION row carries its debit's, and gives the amount back), so "used today" is one index-only range sum.
-- MySQL 8 has no ADD COLUMN / ADD INDEX IF NOT EXISTS: each ALTER is prepared only while what it adds is missing,
-- so the file stays idempotent on MySQL and MariaDB (a start-up that dies half-way runs it again).
SET @tipos_limites = IF(
    (SELECT COUNT(*) FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tipos_cuenta' AND COLUMN_NAME = 'limite_retiro_diario') = 0,
    'ALTER TABLE tipos_cuenta ADD COLUMN limite_retiro_diario DECIMAL(15,2) NULL, ADD COLUMN limite_transferencia_diario DECIMAL(15,2) NULL, ADD CONSTRAINT tipos_cuenta_limites CHECK (limite_retiro_diario >= 0 AND limite_transferencia_diario >= 0)',
    'DO 0'
);
PREPARE tipos_limites FROM @tipos_limites;
EXECUTE tipos_limites;
DEALLOCATE PREPARE tipos_limites;

SET @cuentas_limites = IF(
    (SELECT COUNT(*) FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'cuentas' AND COLUMN_NAME = 'limite_retiro_diario') = 0,
    'ALTER TABLE cuentas ADD COLUMN limite_retiro_diario DECIMAL(15,2) NULL, ADD COLUMN limite_transferencia_diario DECIMAL(15,2) NULL, ADD CONSTRAINT cuentas_limites CHECK (limite_retiro_diario >= 0 AND limite_transferencia_diario >= 0)',
    'DO 0'
);
PREPARE cuentas_limites FROM @cuentas_limites;
EXECUTE cuentas_limites;
DEALLOCATE PREPARE cuentas_limites;

SET @movimientos_cupo = IF(
    (SELECT COUNT(*) FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'movimientos' AND COLUMN_NAME = 'cupo_diario') = 0,
    'ALTER TABLE movimientos ADD COLUMN cupo_diario VARCHAR(13) NULL, ADD CONSTRAINT movimientos_cupo CHECK (cupo_diario IN (''RETIRO'', ''TRANSFERENCIA''))',
    'DO 0'
);
PREPARE movimientos_cupo FROM @movimientos_cupo;
EXECUTE movimientos_cupo;
DEALLOCATE PREPARE movimientos_cupo;

-- "Sum of today's debits of this account by kind" under the account's row lock, on every debit: the range
-- (cuenta_id, cupo_diario, fecha) holds only the rows that count, and operacion and monto make it index-only.
SET @movimientos_cupo_idx = IF(
    (SELECT COUNT(*) FROM information_schema.STATISTICS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'movimientos' AND INDEX_NAME = 'movimientos_cupo_dia') = 0,
    'ALTER TABLE movimientos ADD INDEX movimientos_cupo_dia (cuenta_id, cupo_diario, fecha, operacion, monto)',
    'DO 0'
);
PREPARE movimientos_cupo_idx FROM @movimientos_cupo_idx;
EXECUTE movimientos_cupo_idx;
DEALLOCATE PREPARE movimientos_cupo_idx;

-- Defaults for the seeded tipos. Cuenta Sueldo stays without limits: the integration suite, the bench and the
-- Jepsen-style bank test move large sums through it many times a day; a test sets limits explicitly. The others
-- get limits above what the demo seed (`bank seed`: debits up to 30% of balances up to 25,000) asks in a day.
UPDATE tipos_cuenta SET limite_retiro_diario = 10000.00, limite_transferencia_diario = 20000.00
    WHERE tipo_cuenta_id = 2 AND nombre = 'Cuenta Free';
UPDATE tipos_cuenta SET limite_retiro_diario = 50000.00, limite_transferencia_diario = 200000.00
    WHERE tipo_cuenta_id = 3 AND nombre = 'Cuenta Premium';
UPDATE tipos_cuenta SET limite_retiro_diario = 20000.00, limite_transferencia_diario = 50000.00
    WHERE tipo_cuenta_id = 4 AND nombre = 'Cuenta Ahorro';
