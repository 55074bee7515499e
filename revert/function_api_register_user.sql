-- Revert zkeb:function_api_register_user from pg
BEGIN;

DROP FUNCTION zkeb_api.register_user(bytea, bytea, bytea, jsonb);

COMMIT;
