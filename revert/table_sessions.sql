-- Revert zkeb:table_sessions from pg
BEGIN;

DROP TABLE zkeb.sessions;

COMMIT;
