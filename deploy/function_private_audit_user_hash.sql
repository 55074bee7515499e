-- Deploy zkeb:function_private_audit_user_hash to pg
-- requires: function_private_hmac_sha256
-- requires: function_private_settings
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Keyed hash, so an exported audit table cannot be joined to users without
-- the pepper. NULL stands for the system chain (maintenance runs).
CREATE FUNCTION zkeb_private.audit_user_hash(user_id uuid)
RETURNS bytea
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT zkeb_private.hmac_sha256(
               s.audit_pepper,
               CASE WHEN audit_user_hash.user_id IS NULL
                    THEN pg_catalog.convert_to('zkeb-audit-system-chain', 'UTF8')
                    ELSE pg_catalog.convert_to('zkeb-audit-user:', 'UTF8')
                         || pg_catalog.uuid_send(audit_user_hash.user_id)
               END)
      FROM zkeb_private.settings AS s
     WHERE s.id
$$;

COMMENT ON FUNCTION zkeb_private.audit_user_hash(uuid) IS
    'Pseudonymised 32-byte hash of a user id (HMAC-SHA256 under the settings pepper); NULL gives the system chain''s hash.';
REVOKE ALL ON FUNCTION zkeb_private.audit_user_hash(uuid) FROM PUBLIC;

COMMIT;
