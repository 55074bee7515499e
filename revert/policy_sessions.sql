-- Revert zkeb:policy_sessions from pg
BEGIN;

DROP POLICY sessions_select_claimed ON zkeb.sessions;
DROP POLICY sessions_select_maint ON zkeb.sessions;
DROP POLICY sessions_insert_lookup ON zkeb.sessions;
DROP POLICY sessions_update_own ON zkeb.sessions;
DROP POLICY sessions_delete_own ON zkeb.sessions;
DROP POLICY sessions_delete_maint ON zkeb.sessions;

COMMIT;
