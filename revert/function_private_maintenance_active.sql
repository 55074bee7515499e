-- Revert zkeb:function_private_maintenance_active from pg
BEGIN;

DROP FUNCTION zkeb_private.maintenance_active();

COMMIT;
