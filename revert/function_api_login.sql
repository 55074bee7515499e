-- Revert zkeb:function_api_login from pg
BEGIN;

DROP FUNCTION zkeb_api.login(bytea, bytea, uuid, interval);

COMMIT;
