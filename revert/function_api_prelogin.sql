-- Revert zkeb:function_api_prelogin from pg
BEGIN;

DROP FUNCTION zkeb_api.prelogin(bytea);

COMMIT;
