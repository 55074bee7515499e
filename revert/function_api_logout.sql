-- Revert zkeb:function_api_logout from pg
BEGIN;

DROP FUNCTION zkeb_api.logout(bytea);

COMMIT;
