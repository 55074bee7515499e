-- Revert zkeb:table_settings from pg
BEGIN;

DROP TABLE zkeb_private.settings;

COMMIT;
