-- Revert zkeb:table_users from pg
BEGIN;

DROP TABLE zkeb.users;

COMMIT;
