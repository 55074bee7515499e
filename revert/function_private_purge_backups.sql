-- Revert zkeb:function_private_purge_backups from pg
BEGIN;

DROP FUNCTION zkeb_private.purge_backups(boolean, timestamp with time zone, integer);

COMMIT;
