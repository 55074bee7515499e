-- Deploy zkeb:policy_sessions to pg
-- requires: table_sessions
-- requires: function_private_claimed_user_id
-- requires: function_private_current_user_id
-- requires: function_private_lookup_user_id
-- requires: function_private_maintenance_active
-- Policies name zkeb_owner because the API functions run as the owner and the
-- table FORCEs row level security; every branch compares with a helper in a
-- (SELECT ...) initPlan, so it is evaluated once per statement.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE POLICY sessions_select_claimed ON zkeb.sessions
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.claimed_user_id()));
COMMENT ON POLICY sessions_select_claimed ON zkeb.sessions IS
    'The session check reads the rows of the user its token claims (parsed, no table read: no recursion); the hash, expiry and revocation are then checked on that row.';

CREATE POLICY sessions_select_maint ON zkeb.sessions
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY sessions_select_maint ON zkeb.sessions IS
    'Maintenance reads sessions to purge them and for the invariant checks.';

CREATE POLICY sessions_insert_lookup ON zkeb.sessions
    AS PERMISSIVE FOR INSERT TO zkeb_owner
    WITH CHECK (user_id = (SELECT zkeb_private.lookup_user_id()));
COMMENT ON POLICY sessions_insert_lookup ON zkeb.sessions IS
    'login opens a session for exactly the account it authenticated.';

CREATE POLICY sessions_update_own ON zkeb.sessions
    AS PERMISSIVE FOR UPDATE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()))
    WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY sessions_update_own ON zkeb.sessions IS
    'A session ends its own account''s sessions (logout, device revocation).';

CREATE POLICY sessions_delete_own ON zkeb.sessions
    AS PERMISSIVE FOR DELETE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY sessions_delete_own ON zkeb.sessions IS
    'delete_account erases its own sessions.';

CREATE POLICY sessions_delete_maint ON zkeb.sessions
    AS PERMISSIVE FOR DELETE TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY sessions_delete_maint ON zkeb.sessions IS
    'Maintenance purges expired and revoked sessions.';

COMMIT;
