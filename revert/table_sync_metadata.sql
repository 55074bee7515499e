-- Revert zkeb:table_sync_metadata from pg
BEGIN;

DROP TABLE zkeb.sync_metadata;

COMMIT;
