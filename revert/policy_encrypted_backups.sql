-- Revert zkeb:policy_encrypted_backups from pg
BEGIN;

DROP POLICY encrypted_backups_select_own ON zkeb.encrypted_backups;
DROP POLICY encrypted_backups_select_maint ON zkeb.encrypted_backups;
DROP POLICY encrypted_backups_insert_own ON zkeb.encrypted_backups;
DROP POLICY encrypted_backups_update_own ON zkeb.encrypted_backups;
DROP POLICY encrypted_backups_delete_own ON zkeb.encrypted_backups;
DROP POLICY encrypted_backups_delete_maint ON zkeb.encrypted_backups;

COMMIT;
