-- Verify zkeb:table_sessions on pg
BEGIN;

SELECT user_id, token_hash, device_id, created_at, expires_at, revoked_at
  FROM zkeb.sessions WHERE false;

DO $$
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb.sessions'::regclass) THEN
        RAISE EXCEPTION 'verify table_sessions: RLS not enabled and forced on zkeb.sessions';
    END IF;
    IF has_table_privilege('zkeb_app', 'zkeb.sessions', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') THEN
        RAISE EXCEPTION 'verify table_sessions: zkeb_app has a privilege on zkeb.sessions';
    END IF;
END
$$;

ROLLBACK;
