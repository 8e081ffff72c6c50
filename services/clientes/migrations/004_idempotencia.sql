-- Idempotency-Key records of REST writes (services/platform/idempotency.py): claimed and answered in the same
-- transaction as the write's effect, so a retry finds the original answer. created_at lets a retention job purge
-- old keys (DELETE ... WHERE created_at < now() - interval '7 days'); nothing purges them yet.
CREATE TABLE IF NOT EXISTS idempotencia (
    clave      TEXT PRIMARY KEY,
    huella     CHAR(64) NOT NULL,
    status     SMALLINT,
    cuerpo     TEXT,
    location   TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS idempotencia_created ON idempotencia (created_at);
