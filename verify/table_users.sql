-- Verify zkeb:table_users on pg
BEGIN;

SELECT user_id, username_hash, auth_salt, auth_verifier, kdf_params, storage_quota_bytes, storage_used_bytes, account_status, failed_login_count, locked_until, sync_seq, audit_event_id, audit_head, created_at
  FROM zkeb.users WHERE false;

DO $$
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb.users'::regclass) THEN
        RAISE EXCEPTION 'verify table_users: RLS not enabled and forced on zkeb.users';
    END IF;
    IF has_table_privilege('zkeb_app', 'zkeb.users', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') THEN
        RAISE EXCEPTION 'verify table_users: zkeb_app has a privilege on zkeb.users';
    END IF;
END
$$;

ROLLBACK;
