-- Revert zkeb:function_api_restore_backup from pg
BEGIN;

DROP FUNCTION zkeb_api.restore_backup(bytea, uuid);

COMMIT;
