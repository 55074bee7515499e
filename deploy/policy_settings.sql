-- Deploy zkeb:policy_settings to pg
-- requires: table_settings
-- Policies name zkeb_owner because the API functions run as the owner and the
-- table FORCEs row level security; every branch compares with a helper in a
-- (SELECT ...) initPlan, so it is evaluated once per statement.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE POLICY settings_select_owner ON zkeb_private.settings
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (current_user = 'zkeb_owner');
COMMENT ON POLICY settings_select_owner ON zkeb_private.settings IS
    'Settings are read by the owner''s functions only (no role but the owner has any privilege on the table).';

COMMIT;
