-- Revert zkeb:function_api_list_backups from pg
BEGIN;

DROP FUNCTION zkeb_api.list_backups(bytea, integer, timestamp with time zone, uuid, bytea, boolean);

COMMIT;
