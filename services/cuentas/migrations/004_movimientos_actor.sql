-- Who made each ledger movement: the authcontext of the request (a saga movement: of whoever asked for the
-- transaction, carried by its command). NULL on rows older than the columns.
-- MySQL 8 has no ADD COLUMN IF NOT EXISTS, so the statement is built only while the columns are missing: the
-- file stays idempotent on both MySQL and MariaDB (a start-up that dies before recording it runs it again).
SET @movimientos_actor = IF(
    (SELECT COUNT(*) FROM information_schema.COLUMNS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'movimientos' AND COLUMN_NAME = 'actor_authtype') = 0,
    'ALTER TABLE movimientos ADD COLUMN actor_authtype VARCHAR(32) NULL, ADD COLUMN actor_authid VARCHAR(255) NULL',
    'DO 0'
);
PREPARE movimientos_actor FROM @movimientos_actor;
EXECUTE movimientos_actor;
DEALLOCATE PREPARE movimientos_actor;
