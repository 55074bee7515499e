-- Revert zkeb:policy_devices from pg
BEGIN;

DROP POLICY devices_select_own ON zkeb.devices;
DROP POLICY devices_select_lookup ON zkeb.devices;
DROP POLICY devices_select_maint ON zkeb.devices;
DROP POLICY devices_insert_own ON zkeb.devices;
DROP POLICY devices_update_own ON zkeb.devices;
DROP POLICY devices_delete_own ON zkeb.devices;

COMMIT;
