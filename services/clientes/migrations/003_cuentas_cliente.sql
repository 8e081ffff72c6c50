-- A tiny local projection of the bank.cuentas.v1 topic: just enough to refuse deleting a cliente whose accounts
-- still hold money, without a synchronous call to cuentas. Fed by the consumer group clientes.cuentas-abiertas.
CREATE TABLE cuentas_cliente (
    cuenta_id            BIGINT PRIMARY KEY,
    cliente_id           BIGINT NOT NULL,
    estado               TEXT NOT NULL,
    saldo                NUMERIC(15, 2) NOT NULL DEFAULT 0,
    -- SaldoActualizado.saldo is the balance after movimiento_id: only a newer movement may overwrite it.
    ultimo_movimiento_id BIGINT NOT NULL DEFAULT 0,
    eliminada            BOOLEAN NOT NULL DEFAULT false,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX cuentas_cliente_cliente_idx ON cuentas_cliente (cliente_id);

-- Processed event ids, written in the same transaction as the projection change. The table is created before the
-- migrations run, from the one DDL the inbox helpers own (consumers/inbox.INBOX_DDL_POSTGRES).
COMMENT ON TABLE inbox IS 'processed message ids: consumers/inbox.INBOX_DDL_POSTGRES';
