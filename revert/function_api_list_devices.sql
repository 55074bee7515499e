-- Revert zkeb:function_api_list_devices from pg
BEGIN;

DROP FUNCTION zkeb_api.list_devices(bytea);

COMMIT;
