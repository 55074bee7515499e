-- Deploy zkeb:policy_devices to pg
-- requires: table_devices
-- requires: function_private_current_user_id
-- requires: function_private_lookup_user_id
-- requires: function_private_maintenance_active
-- Policies name zkeb_owner because the API functions run as the owner and the
-- table FORCEs row level security; every branch compares with a helper in a
-- (SELECT ...) initPlan, so it is evaluated once per statement.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE POLICY devices_select_own ON zkeb.devices
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY devices_select_own ON zkeb.devices IS
    'A session sees its own devices.';

CREATE POLICY devices_select_lookup ON zkeb.devices
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.lookup_user_id()));
COMMENT ON POLICY devices_select_lookup ON zkeb.devices IS
    'login checks the device it names belongs to the looked-up account.';

CREATE POLICY devices_select_maint ON zkeb.devices
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY devices_select_maint ON zkeb.devices IS
    'Maintenance reads devices for the invariant checks.';

CREATE POLICY devices_insert_own ON zkeb.devices
    AS PERMISSIVE FOR INSERT TO zkeb_owner
    WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY devices_insert_own ON zkeb.devices IS
    'A session registers devices for its own account only.';

CREATE POLICY devices_update_own ON zkeb.devices
    AS PERMISSIVE FOR UPDATE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()))
    WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY devices_update_own ON zkeb.devices IS
    'A session revokes its own devices and advances their Lamport value.';

CREATE POLICY devices_delete_own ON zkeb.devices
    AS PERMISSIVE FOR DELETE TO zkeb_owner
    USING (user_id = (SELECT zkeb_private.current_user_id()));
COMMENT ON POLICY devices_delete_own ON zkeb.devices IS
    'delete_account erases its own devices.';

COMMIT;
