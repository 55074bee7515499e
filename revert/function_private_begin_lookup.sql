-- Revert zkeb:function_private_begin_lookup from pg
BEGIN;

DROP FUNCTION zkeb_private.begin_lookup(bytea, uuid);

COMMIT;
