-- Verify zkeb:table_recovery_shares on pg
BEGIN;

SELECT user_id, recovery_set_id, share_index, guardian_hash, threshold, total_shares, encrypted_share, created_at
  FROM zkeb.recovery_shares WHERE false;

DO $$
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb.recovery_shares'::regclass) THEN
        RAISE EXCEPTION 'verify table_recovery_shares: RLS not enabled and forced on zkeb.recovery_shares';
    END IF;
    IF has_table_privilege('zkeb_app', 'zkeb.recovery_shares', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') THEN
        RAISE EXCEPTION 'verify table_recovery_shares: zkeb_app has a privilege on zkeb.recovery_shares';
    END IF;
END
$$;

ROLLBACK;
