-- Revert zkeb:schema_zkeb_api from pg
BEGIN;

DROP SCHEMA zkeb_api;

COMMIT;
