-- Revert zkeb:function_api_store_recovery_shares from pg
BEGIN;

DROP FUNCTION zkeb_api.store_recovery_shares(bytea, integer, bytea[], integer[], bytea[]);

COMMIT;
