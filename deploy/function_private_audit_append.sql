-- Deploy zkeb:function_private_audit_append to pg
-- requires: table_audit_logs
-- requires: function_private_audit_user_hash
-- requires: function_private_audit_row_hash
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Insert one audit event after a chain head the caller has locked, and return
-- its row hash; the caller moves the head. zkeb_private.audit() is the usual
-- caller (it locks and moves the head on the user's row); create_backup calls
-- it directly so that the quota charge and the new head are one UPDATE of the
-- account row instead of two.
--
-- The chain hash of the session's own account is computed once per call:
-- the first event of the call on that chain records it in
-- zkeb.session_audit_hash, which later events and the audit_logs policies
-- (audit_context_hashes) read. It is recorded only for the user whom
-- begin_session validated, only while the context still holds that token,
-- and every begin_* clears it. Any other account, and the system chain
-- (user_id NULL), is hashed here each time.
--
-- The row hash is zkeb_private.audit_row_hash() written inline (encoding in
-- docs/audit.md): a SQL function with a pinned search_path is never inlined,
-- and planning it again in every call cost more than the rest of the write.
CREATE FUNCTION zkeb_private.audit_append(
    user_id uuid, action text, success boolean, metadata jsonb,
    prev_event_id bigint, prev_hash bytea)
RETURNS bytea
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.session_token', true);
    _cached text;
    _uh bytea;
    _id bigint := COALESCE(audit_append.prev_event_id, 0) + 1;
    _prev bytea := COALESCE(audit_append.prev_hash, pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex'));
    _meta jsonb := COALESCE(audit_append.metadata, '{}'::jsonb);
    _now timestamptz;
    _hash bytea;
BEGIN
    IF audit_append.action = 'audit_retention_anchor' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422',
            MESSAGE = 'audit_retention_anchor events are written by purge_audit_logs only';
    END IF;
    IF audit_append.user_id IS NOT NULL
       AND pg_catalog.length(_hex) = 96
       AND _hex = pg_catalog.current_setting('zkeb.session_checked', true)
       AND audit_append.user_id::text = pg_catalog.current_setting('zkeb.session_user_id', true) THEN
        _cached := pg_catalog.current_setting('zkeb.session_audit_hash', true);
        IF pg_catalog.length(_cached) = 64 THEN
            _uh := pg_catalog.decode(_cached, 'hex');
        ELSE
            _uh := zkeb_private.audit_user_hash(audit_append.user_id);
            PERFORM pg_catalog.set_config('zkeb.session_audit_hash', pg_catalog.encode(_uh, 'hex'), true);
        END IF;
    ELSE
        _uh := zkeb_private.audit_user_hash(audit_append.user_id);
    END IF;
    -- Read the clock only now that the head is locked, so created_at never
    -- goes backwards along a chain (retention cuts chains by age).
    _now := pg_catalog.clock_timestamp();
    _hash := pg_catalog.sha256(
        _prev
        || pg_catalog.convert_to(
               pg_catalog.concat_ws('|',
                   'zkeb-audit-v1',
                   pg_catalog.encode(_uh, 'hex'),
                   _id::text,
                   audit_append.action,
                   CASE WHEN audit_append.success THEN 't' ELSE 'f' END,
                   (EXTRACT(EPOCH FROM _now) * 1000000)::numeric(20, 0)::text,
                   _meta::text),
               'UTF8'));
    INSERT INTO zkeb.audit_logs (user_hash, event_id, action, success, metadata, created_at, prev_hash, row_hash)
    VALUES (_uh, _id, audit_append.action, audit_append.success, _meta, _now, _prev, _hash);
    RETURN _hash;
END
$$;

COMMENT ON FUNCTION zkeb_private.audit_append(uuid, text, boolean, jsonb, bigint, bytea) IS
    'Insert one audit event on the chain of user_id (NULL: the system chain) after the head (prev_event_id, prev_hash; NULL for an empty chain) that the caller holds locked, and return its row hash; the caller moves the head. Errors: ZK422 action reserved for retention.';
REVOKE ALL ON FUNCTION zkeb_private.audit_append(uuid, text, boolean, jsonb, bigint, bytea) FROM PUBLIC;

COMMIT;
