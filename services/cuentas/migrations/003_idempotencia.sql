-- Idempotency-Key records of REST writes (services/platform/idempotency.py): claimed and answered in the same
-- transaction as the write's effect, so a retry on either instance finds the original answer. created_at lets a
-- retention job purge old keys (DELETE ... WHERE created_at < NOW() - INTERVAL 7 DAY); nothing purges them yet.
CREATE TABLE IF NOT EXISTS idempotencia (
    clave       VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    huella      CHAR(64) CHARACTER SET ascii NOT NULL,
    status      SMALLINT NULL,
    cuerpo      MEDIUMTEXT NULL,
    location    VARCHAR(255) NULL,
    created_at  DATETIME(6) NOT NULL,
    KEY idempotencia_created (created_at)
) ENGINE=InnoDB;
