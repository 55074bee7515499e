-- Revert zkeb:function_api_storage_usage from pg
BEGIN;

DROP FUNCTION zkeb_api.storage_usage(bytea);

COMMIT;
