-- Who registered each cliente and who changed it last (an update, or the soft delete): the request's CloudEvents
-- authcontext, {"authtype": ..., "authid": ...}. NULL on records older than the columns.
ALTER TABLE clientes ADD COLUMN IF NOT EXISTS creado_por JSONB;
ALTER TABLE clientes ADD COLUMN IF NOT EXISTS actualizado_por JSONB;
