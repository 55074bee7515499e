-- Verify zkeb:table_settings on pg
BEGIN;

SELECT id, default_quota_bytes, max_backup_bytes, max_sync_payload_bytes, trash_retention,
       audit_retention, lockout_threshold, lockout_duration, audit_downloads,
       default_kdf_params, audit_pepper, prelogin_key
  FROM zkeb_private.settings WHERE false;

DO $$
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb_private.settings'::regclass) THEN
        RAISE EXCEPTION 'verify table_settings: RLS not enabled and forced';
    END IF;
END
$$;

ROLLBACK;
