-- Revert zkeb:function_private_valid_vector_clock from pg
BEGIN;

DROP FUNCTION zkeb_private.valid_vector_clock(jsonb);

COMMIT;
