-- Revert zkeb:function_api_whoami from pg
BEGIN;

DROP FUNCTION zkeb_api.whoami(bytea);

COMMIT;
