-- Deploy zkeb:policy_encrypted_backups to pg
-- requires: table_encrypted_backups
-- requires: function_private_current_user_id
-- requires: function_private_maintenance_active
-- Policies name zkeb_owner because the API functions run as the owner and the
-- table FORCEs row level security; every branch compares with a helper in a
-- (SELECT ...) initPlan, so it is evaluated once per statement.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE POLICY encrypted_backups_select_own ON zkeb.encrypted_backups
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY encrypted_backups_select_own ON zkeb.encrypted_backups IS
    'A session sees its own backups.';

CREATE POLICY encrypted_backups_select_maint ON zkeb.encrypted_backups
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY encrypted_backups_select_maint ON zkeb.encrypted_backups IS
    'Maintenance finds expired and trashed backups (its functions never return ciphertext).';

CREATE POLICY encrypted_backups_insert_own ON zkeb.encrypted_backups
    AS PERMISSIVE FOR INSERT TO zkeb_owner
    WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY encrypted_backups_insert_own ON zkeb.encrypted_backups IS
    'A session stores backups for its own account only.';

CREATE POLICY encrypted_backups_update_own ON zkeb.encrypted_backups
    AS PERMISSIVE FOR UPDATE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()))
    WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY encrypted_backups_update_own ON zkeb.encrypted_backups IS
    'A session trashes and restores its own backups.';

CREATE POLICY encrypted_backups_delete_own ON zkeb.encrypted_backups
    AS PERMISSIVE FOR DELETE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY encrypted_backups_delete_own ON zkeb.encrypted_backups IS
    'A session purges its own backups.';

CREATE POLICY encrypted_backups_delete_maint ON zkeb.encrypted_backups
    AS PERMISSIVE FOR DELETE TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY encrypted_backups_delete_maint ON zkeb.encrypted_backups IS
    'Maintenance deletes expired backups and purges old trash.';

COMMIT;
