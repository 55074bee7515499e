-- Verify zkeb:table_encrypted_backups on pg
BEGIN;

SELECT user_id, backup_id, device_id, backup_name_hash, ciphertext, nonce, auth_tag, signature, key_algorithm, size_bytes, created_at, expires_at, deleted_at
  FROM zkeb.encrypted_backups WHERE false;

DO $$
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb.encrypted_backups'::regclass) THEN
        RAISE EXCEPTION 'verify table_encrypted_backups: RLS not enabled and forced on zkeb.encrypted_backups';
    END IF;
    IF has_table_privilege('zkeb_app', 'zkeb.encrypted_backups', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') THEN
        RAISE EXCEPTION 'verify table_encrypted_backups: zkeb_app has a privilege on zkeb.encrypted_backups';
    END IF;
END
$$;

ROLLBACK;
