-- Revert zkeb:schema_zkeb_private from pg
BEGIN;

DROP SCHEMA zkeb_private;

COMMIT;
