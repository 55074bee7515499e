-- Revert zkeb:function_api_sync_pull from pg
BEGIN;

DROP FUNCTION zkeb_api.sync_pull(bytea, bigint, integer);

COMMIT;
