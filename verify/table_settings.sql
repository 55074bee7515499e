-- Verify zkeb:table_settings on pg
BEGIN;

SELECT id, default_quota_bytes, max_backup_bytes, max_sync_payload_bytes, trash_retention,
       audit_retention, lockout_threshold, lockout_duration, audit_downloads,
       default_kdf_params, audit_pepper, prelogin_key, audit_pepper_ipad, audit_pepper_opad
  FROM zkeb_private.settings WHERE false;

DO $$
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb_private.settings'::regclass) THEN
        RAISE EXCEPTION 'verify table_settings: RLS not enabled and forced';
    END IF;
    IF EXISTS (SELECT 1 FROM zkeb_private.settings AS s
                WHERE s.audit_pepper_ipad <> zkeb_private.hmac_pad(s.audit_pepper, 54)
                   OR s.audit_pepper_opad <> zkeb_private.hmac_pad(s.audit_pepper, 92)) THEN
        RAISE EXCEPTION 'verify table_settings: the audit pepper pads do not match the pepper';
    END IF;
END
$$;

ROLLBACK;
