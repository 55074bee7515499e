-- Revert zkeb:function_api_sync_push from pg
BEGIN;

DROP FUNCTION zkeb_api.sync_push(bytea, bytea, uuid, jsonb, bigint, bytea);

COMMIT;
