-- Deploy zkeb:policy_sync_metadata to pg
-- requires: table_sync_metadata
-- requires: function_private_current_user_id
-- requires: function_private_maintenance_active
-- Policies name zkeb_owner because the API functions run as the owner and the
-- table FORCEs row level security; every branch compares with a helper in a
-- (SELECT ...) initPlan, so it is evaluated once per statement.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE POLICY sync_metadata_select_own ON zkeb.sync_metadata
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY sync_metadata_select_own ON zkeb.sync_metadata IS
    'A session sees its own sync metadata.';

CREATE POLICY sync_metadata_select_maint ON zkeb.sync_metadata
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY sync_metadata_select_maint ON zkeb.sync_metadata IS
    'Maintenance reads sync heads for the invariant checks.';

CREATE POLICY sync_metadata_insert_own ON zkeb.sync_metadata
    AS PERMISSIVE FOR INSERT TO zkeb_owner
    WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY sync_metadata_insert_own ON zkeb.sync_metadata IS
    'A session pushes sync versions for its own account only.';

CREATE POLICY sync_metadata_update_own ON zkeb.sync_metadata
    AS PERMISSIVE FOR UPDATE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()))
    WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY sync_metadata_update_own ON zkeb.sync_metadata IS
    'A session updates its own sync versions (sibling flags).';

CREATE POLICY sync_metadata_delete_own ON zkeb.sync_metadata
    AS PERMISSIVE FOR DELETE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY sync_metadata_delete_own ON zkeb.sync_metadata IS
    'A session removes its own superseded sync versions.';

COMMIT;
