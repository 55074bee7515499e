-- Revert zkeb:function_api_purge_backup from pg
BEGIN;

DROP FUNCTION zkeb_api.purge_backup(bytea, uuid);

COMMIT;
