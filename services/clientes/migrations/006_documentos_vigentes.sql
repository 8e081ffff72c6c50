-- A cliente's documentos are always read with `deleted_at IS NULL` (the join of every cliente read, the search's
-- EXISTS, the soft delete's UPDATE), so their index by cliente holds only those. With the old full index, a table
-- bulk-loaded a moment ago (no planner statistics until autovacuum's first ANALYZE) made the planner pair it with
-- documentos_numero_key (the one index whose predicate covers `deleted_at IS NULL`) in a BitmapAnd that read that
-- whole index once per cliente of the page: 290 ms a page of 500 instead of 10 ms right after the demo seed's
-- clientes, 32 s of PostgreSQL time for the seed's listing of them. This index answers both conditions alone.
CREATE INDEX IF NOT EXISTS documentos_cliente_vigentes_idx ON documentos_identidad (cliente_id) WHERE deleted_at IS NULL;
DROP INDEX IF EXISTS documentos_cliente_idx;
