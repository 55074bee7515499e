-- Revert zkeb:function_api_delete_account from pg
BEGIN;

DROP FUNCTION zkeb_api.delete_account(bytea);

COMMIT;
