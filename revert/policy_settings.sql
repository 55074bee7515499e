-- Revert zkeb:policy_settings from pg
BEGIN;

DROP POLICY settings_select_owner ON zkeb_private.settings;

COMMIT;
