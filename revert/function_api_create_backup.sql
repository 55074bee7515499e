-- Revert zkeb:function_api_create_backup from pg
BEGIN;

DROP FUNCTION zkeb_api.create_backup(bytea, uuid, uuid, bytea, bytea, bytea, bytea, bytea, timestamp with time zone);

COMMIT;
