-- Revert zkeb:function_api_delete_backup from pg
BEGIN;

DROP FUNCTION zkeb_api.delete_backup(bytea, uuid);

COMMIT;
