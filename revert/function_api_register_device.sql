-- Revert zkeb:function_api_register_device from pg
BEGIN;

DROP FUNCTION zkeb_api.register_device(bytea, bytea, bytea, text);

COMMIT;
