-- Revert zkeb:function_maint_set_quota from pg
BEGIN;

DROP FUNCTION zkeb_maint.set_quota(uuid, bigint);

COMMIT;
