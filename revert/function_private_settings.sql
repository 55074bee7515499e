-- Revert zkeb:function_private_settings from pg
BEGIN;

DROP FUNCTION zkeb_private.settings();

COMMIT;
