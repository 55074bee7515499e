-- Revert zkeb:table_encrypted_backups from pg
BEGIN;

DROP TABLE zkeb.encrypted_backups;

COMMIT;
