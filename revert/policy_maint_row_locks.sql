-- Revert zkeb:policy_maint_row_locks from pg
BEGIN;

DROP POLICY sessions_update_maint ON zkeb.sessions;
DROP POLICY encrypted_backups_update_maint ON zkeb.encrypted_backups;

COMMIT;
