-- Revert zkeb:function_api_get_backup from pg
BEGIN;

DROP FUNCTION zkeb_api.get_backup(bytea, uuid);

COMMIT;
