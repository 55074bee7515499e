-- Deploy zkeb:function_private_audit_row_hash to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The canonical encoding of an audit row (documented in docs/audit.md):
--   'zkeb-audit-v1' | hex(user_hash) | event_id | action | t/f
--   | created_at as integer microseconds since the Unix epoch | metadata::text
-- joined by '|', UTF-8; metadata comes last because only it may contain '|'.
-- row_hash = sha256(prev_hash || that text).
CREATE FUNCTION zkeb_private.audit_row_hash(
    prev_hash bytea, user_hash bytea, event_id bigint, action text,
    success boolean, created_at timestamptz, metadata jsonb)
RETURNS bytea
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.sha256(
        audit_row_hash.prev_hash
        || pg_catalog.convert_to(
               pg_catalog.concat_ws('|',
                   'zkeb-audit-v1',
                   pg_catalog.encode(audit_row_hash.user_hash, 'hex'),
                   audit_row_hash.event_id::text,
                   audit_row_hash.action,
                   CASE WHEN audit_row_hash.success THEN 't' ELSE 'f' END,
                   (EXTRACT(EPOCH FROM audit_row_hash.created_at) * 1000000)::numeric(20, 0)::text,
                   audit_row_hash.metadata::text),
               'UTF8'))
$$;

COMMENT ON FUNCTION zkeb_private.audit_row_hash(bytea, bytea, bigint, text, boolean, timestamp with time zone, jsonb) IS
    'sha256(prev_hash || canonical encoding of an audit row); see docs/audit.md for the encoding.';
REVOKE ALL ON FUNCTION zkeb_private.audit_row_hash(bytea, bytea, bigint, text, boolean, timestamp with time zone, jsonb) FROM PUBLIC;

COMMIT;
