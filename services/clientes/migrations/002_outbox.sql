-- The transactional outbox: events commit with the state they describe. The table itself is created before the
-- migrations run, from the one DDL the relay owns (producers/outbox_postgres.OUTBOX_DDL); this step only says so.
COMMENT ON TABLE outbox IS 'transactional outbox: producers/outbox_postgres.OUTBOX_DDL';
