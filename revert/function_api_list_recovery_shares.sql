-- Revert zkeb:function_api_list_recovery_shares from pg
BEGIN;

DROP FUNCTION zkeb_api.list_recovery_shares(bytea);

COMMIT;
