-- Revert zkeb:schema_zkeb from pg
BEGIN;

DROP SCHEMA zkeb;

COMMIT;
