-- Deploy zkeb:policy_maint_row_locks to pg
-- requires: policy_encrypted_backups
-- requires: policy_sessions
-- requires: function_private_maintenance_active
-- Maintenance claims its batches with SELECT ... FOR UPDATE SKIP LOCKED so two
-- workers never take the same row nor wait for each other. Under forced RLS a
-- row lock needs an UPDATE policy as well as a SELECT one (PostgreSQL applies
-- the UPDATE policy's USING to FOR UPDATE): these branches admit exactly that.
-- No maintenance function updates a backup or a session.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE POLICY encrypted_backups_update_maint ON zkeb.encrypted_backups
    AS PERMISSIVE FOR UPDATE TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()))
    WITH CHECK ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY encrypted_backups_update_maint ON zkeb.encrypted_backups IS
    'Maintenance row-locks expired and trashed backups (FOR UPDATE SKIP LOCKED) before deleting them.';

CREATE POLICY sessions_update_maint ON zkeb.sessions
    AS PERMISSIVE FOR UPDATE TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()))
    WITH CHECK ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY sessions_update_maint ON zkeb.sessions IS
    'Maintenance row-locks expired sessions (FOR UPDATE SKIP LOCKED) before deleting them.';

COMMIT;
