-- Account types, accounts, the ledger and the local replica of clientes. Every statement is idempotent
-- (MySQL DDL auto-commits, so a start-up that dies half-way simply runs the file again).

CREATE TABLE IF NOT EXISTS tipos_cuenta (
    tipo_cuenta_id      INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    nombre              VARCHAR(50) NOT NULL,
    descripcion         VARCHAR(255) NULL,
    costo_mantenimiento DECIMAL(15,2) NOT NULL DEFAULT 0.00,
    tasa_interes        DECIMAL(5,2) NOT NULL DEFAULT 0.00,
    estado              VARCHAR(10) NOT NULL DEFAULT 'activo',
    UNIQUE KEY tipos_cuenta_nombre (nombre),
    CONSTRAINT tipos_cuenta_costo CHECK (costo_mantenimiento >= 0),
    CONSTRAINT tipos_cuenta_tasa CHECK (tasa_interes >= 0),
    CONSTRAINT tipos_cuenta_estado CHECK (estado IN ('activo', 'inactivo'))
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS cuentas (
    cuenta_id      BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    cliente_id     BIGINT NOT NULL,
    tipo_cuenta_id INT NOT NULL,
    numero_cuenta  CHAR(13) NOT NULL,
    saldo          DECIMAL(15,2) NOT NULL DEFAULT 0.00,
    moneda         CHAR(3) NOT NULL DEFAULT 'PEN',
    estado         VARCHAR(10) NOT NULL DEFAULT 'activa',
    fecha_apertura DATETIME(6) NOT NULL,
    -- Soft delete: the row and its ledger stay (financial records are never destroyed), the API hides it.
    eliminada_en   DATETIME(6) NULL,
    UNIQUE KEY cuentas_numero (numero_cuenta),
    KEY cuentas_cliente (cliente_id, cuenta_id),
    CONSTRAINT cuentas_tipo FOREIGN KEY (tipo_cuenta_id) REFERENCES tipos_cuenta (tipo_cuenta_id),
    -- The last line of defence against overdrafts: no code path can leave a negative balance.
    CONSTRAINT cuentas_saldo_no_negativo CHECK (saldo >= 0),
    CONSTRAINT cuentas_moneda CHECK (moneda IN ('PEN', 'USD', 'EUR')),
    CONSTRAINT cuentas_estado CHECK (estado IN ('activa', 'bloqueada', 'cerrada'))
) ENGINE=InnoDB;

-- The ledger: every change of a saldo is exactly one row, so saldo == SUM(CREDITO) - SUM(DEBITO) per account.
CREATE TABLE IF NOT EXISTS movimientos (
    movimiento_id       BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    cuenta_id           BIGINT NOT NULL,
    operacion           VARCHAR(7) NOT NULL,
    monto               DECIMAL(15,2) NOT NULL,
    saldo_resultante    DECIMAL(15,2) NOT NULL,
    causa               VARCHAR(10) NOT NULL,
    transaccion_id      VARCHAR(100) NULL,
    comando_id          VARCHAR(64) NULL,
    -- Set on a REVERSION row: the debit command it gives back. Unique, so no debit is ever reverted twice.
    comando_original_id VARCHAR(64) NULL,
    fecha               DATETIME(6) NOT NULL,
    KEY movimientos_cuenta (cuenta_id, movimiento_id),
    KEY movimientos_cuenta_fecha (cuenta_id, fecha),
    -- A saga command moves money at most once, whatever the consumer does.
    UNIQUE KEY movimientos_comando (comando_id),
    UNIQUE KEY movimientos_revierte (comando_original_id),
    CONSTRAINT movimientos_cuenta_fk FOREIGN KEY (cuenta_id) REFERENCES cuentas (cuenta_id),
    CONSTRAINT movimientos_operacion CHECK (operacion IN ('CREDITO', 'DEBITO')),
    CONSTRAINT movimientos_monto CHECK (monto > 0),
    CONSTRAINT movimientos_saldo CHECK (saldo_resultante >= 0),
    CONSTRAINT movimientos_causa CHECK (causa IN ('APERTURA', 'DEPOSITO', 'RETIRO', 'SAGA', 'REVERSION'))
) ENGINE=InnoDB;

-- What cuentas knows about clientes, folded from bank.clientes.v1, so opening an account needs no call to MS1.
CREATE TABLE IF NOT EXISTS clientes_replica (
    cliente_id     BIGINT NOT NULL PRIMARY KEY,
    estado         VARCHAR(10) NULL,
    deleted        BOOLEAN NOT NULL DEFAULT FALSE,
    actualizado_en DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;
