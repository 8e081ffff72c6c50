-- The database holds several copies of the view (one schema each, perfil_v<n>); the pointer row says
-- which one the API reads and the live projection folds into. A rebuild fills a new schema and
-- moves the pointer in one transaction.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE SEQUENCE IF NOT EXISTS view_seq;

CREATE TABLE IF NOT EXISTS view_pointer (
    id          INT PRIMARY KEY CHECK (id = 1),
    schema_name TEXT NOT NULL,
    switched_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
