-- Deploy zkeb:policy_users to pg
-- requires: table_users
-- requires: function_private_current_user_id
-- requires: function_private_lookup_username_hash
-- requires: function_private_lookup_user_id
-- requires: function_private_maintenance_active
-- Policies name zkeb_owner because the API functions run as the owner and the
-- table FORCEs row level security; every branch compares with a helper in a
-- (SELECT ...) initPlan, so it is evaluated once per statement.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE POLICY users_select_own ON zkeb.users
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY users_select_own ON zkeb.users IS
    'A session sees its own account row.';

CREATE POLICY users_select_lookup ON zkeb.users
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (username_hash = (SELECT zkeb_private.lookup_username_hash()) OR user_id = (SELECT zkeb_private.lookup_user_id()));
COMMENT ON POLICY users_select_lookup ON zkeb.users IS
    'Before a session (prelogin, register, login) exactly the looked-up account row is visible.';

CREATE POLICY users_select_maint ON zkeb.users
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY users_select_maint ON zkeb.users IS
    'Maintenance (members of zkeb_maintainer) sees every account row.';

CREATE POLICY users_insert_register ON zkeb.users
    AS PERMISSIVE FOR INSERT TO zkeb_owner
    WITH CHECK (user_id = (SELECT zkeb_private.lookup_user_id()));
COMMENT ON POLICY users_insert_register ON zkeb.users IS
    'register_user inserts exactly the new account it announced in its lookup context.';

CREATE POLICY users_update_own ON zkeb.users
    AS PERMISSIVE FOR UPDATE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()))
    WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY users_update_own ON zkeb.users IS
    'A session updates its own account row (quota usage, sync sequence, audit head).';

CREATE POLICY users_update_lookup ON zkeb.users
    AS PERMISSIVE FOR UPDATE TO zkeb_owner
    USING (username_hash = (SELECT zkeb_private.lookup_username_hash()) OR user_id = (SELECT zkeb_private.lookup_user_id()))
    WITH CHECK (username_hash = (SELECT zkeb_private.lookup_username_hash()) OR user_id = (SELECT zkeb_private.lookup_user_id()));
COMMENT ON POLICY users_update_lookup ON zkeb.users IS
    'login updates the failed-login counter and lock of exactly the looked-up account.';

CREATE POLICY users_update_maint ON zkeb.users
    AS PERMISSIVE FOR UPDATE TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()))
    WITH CHECK ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY users_update_maint ON zkeb.users IS
    'Maintenance gives quota back and sets quotas.';

CREATE POLICY users_delete_own ON zkeb.users
    AS PERMISSIVE FOR DELETE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY users_delete_own ON zkeb.users IS
    'delete_account erases its own account row.';

COMMIT;
