-- The transactional outbox (producers/outbox_postgres.OUTBOX_DDL): events commit with the state they describe.
CREATE TABLE IF NOT EXISTS outbox (
    id           BIGSERIAL PRIMARY KEY,
    event_id     TEXT NOT NULL UNIQUE,
    topic        TEXT NOT NULL,
    msg_key      TEXT NOT NULL,
    headers      JSONB NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
