-- Revert zkeb:function_private_begin_session from pg
BEGIN;

DROP FUNCTION zkeb_private.begin_session(bytea);

COMMIT;
