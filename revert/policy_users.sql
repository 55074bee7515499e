-- Revert zkeb:policy_users from pg
BEGIN;

DROP POLICY users_select_own ON zkeb.users;
DROP POLICY users_select_lookup ON zkeb.users;
DROP POLICY users_select_maint ON zkeb.users;
DROP POLICY users_insert_register ON zkeb.users;
DROP POLICY users_update_own ON zkeb.users;
DROP POLICY users_update_lookup ON zkeb.users;
DROP POLICY users_update_maint ON zkeb.users;
DROP POLICY users_delete_own ON zkeb.users;

COMMIT;
