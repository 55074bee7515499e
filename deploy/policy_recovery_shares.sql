-- Deploy zkeb:policy_recovery_shares to pg
-- requires: table_recovery_shares
-- requires: function_private_current_user_id
-- requires: function_private_maintenance_active
-- Policies name zkeb_owner because the API functions run as the owner and the
-- table FORCEs row level security; every branch compares with a helper in a
-- (SELECT ...) initPlan, so it is evaluated once per statement.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE POLICY recovery_shares_select_own ON zkeb.recovery_shares
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY recovery_shares_select_own ON zkeb.recovery_shares IS
    'A session sees its own recovery shares.';

CREATE POLICY recovery_shares_insert_own ON zkeb.recovery_shares
    AS PERMISSIVE FOR INSERT TO zkeb_owner
    WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY recovery_shares_insert_own ON zkeb.recovery_shares IS
    'A session stores recovery shares for its own account only.';

CREATE POLICY recovery_shares_delete_own ON zkeb.recovery_shares
    AS PERMISSIVE FOR DELETE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY recovery_shares_delete_own ON zkeb.recovery_shares IS
    'A session replaces (deletes) its own recovery shares.';

COMMIT;
