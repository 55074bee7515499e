-- Revert zkeb:function_api_revoke_device from pg
BEGIN;

DROP FUNCTION zkeb_api.revoke_device(bytea, uuid);

COMMIT;
