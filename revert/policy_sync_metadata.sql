-- Revert zkeb:policy_sync_metadata from pg
BEGIN;

DROP POLICY sync_metadata_select_own ON zkeb.sync_metadata;
DROP POLICY sync_metadata_select_maint ON zkeb.sync_metadata;
DROP POLICY sync_metadata_insert_own ON zkeb.sync_metadata;
DROP POLICY sync_metadata_update_own ON zkeb.sync_metadata;
DROP POLICY sync_metadata_delete_own ON zkeb.sync_metadata;

COMMIT;
