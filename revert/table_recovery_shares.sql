-- Revert zkeb:table_recovery_shares from pg
BEGIN;

DROP TABLE zkeb.recovery_shares;

COMMIT;
