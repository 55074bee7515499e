-- Deploy zkeb:function_private_audit_user_hash to pg
-- requires: table_settings
-- requires: function_private_hmac_sha256
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Keyed hash, so an exported audit table cannot be joined to users without
-- the pepper: HMAC-SHA256(audit_pepper, 'zkeb-audit-user:' || uuid bytes),
-- computed from the pepper's block keys that zkeb_private.settings stores
-- (two sha256 calls). NULL stands for the system chain (maintenance runs).
-- begin_session writes the same expression inline for the caller's hash.
CREATE FUNCTION zkeb_private.audit_user_hash(user_id uuid)
RETURNS bytea
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _hash bytea;
BEGIN
    SELECT pg_catalog.sha256(s.audit_pepper_opad || pg_catalog.sha256(
               s.audit_pepper_ipad
               || CASE WHEN audit_user_hash.user_id IS NULL
                       THEN pg_catalog.convert_to('zkeb-audit-system-chain', 'UTF8')
                       ELSE pg_catalog.convert_to('zkeb-audit-user:', 'UTF8')
                            || pg_catalog.uuid_send(audit_user_hash.user_id)
                  END))
      INTO _hash
      FROM zkeb_private.settings AS s
     WHERE s.id;
    RETURN _hash;
END
$$;

COMMENT ON FUNCTION zkeb_private.audit_user_hash(uuid) IS
    'Pseudonymised 32-byte hash of a user id (HMAC-SHA256 under the settings pepper); NULL gives the system chain''s hash.';
REVOKE ALL ON FUNCTION zkeb_private.audit_user_hash(uuid) FROM PUBLIC;

COMMIT;
