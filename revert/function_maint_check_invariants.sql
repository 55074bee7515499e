-- Revert zkeb:function_maint_check_invariants from pg
BEGIN;

DROP FUNCTION zkeb_maint.check_invariants();

COMMIT;
