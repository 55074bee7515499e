-- Deploy zkeb:function_private_audit_context_hashes to pg
-- requires: function_private_audit_user_hash
-- requires: function_private_current_user_id
-- requires: function_private_lookup_user_id
-- requires: function_private_maintenance_active
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The audit chains the current context may write to or read: the session's
-- own, the looked-up account's, and the system chain in maintenance. Called
-- by the audit_logs policies, once per statement. Within a session call the
-- session's hash is the one audit_append recorded for the user begin_session
-- validated (zkeb.session_audit_hash, taken only while the context still
-- holds that token, as in current_user_id; every begin_* clears it), so an
-- event costs one HMAC, not two; before the call's first event it is computed
-- here. A session context set any other way (outside an API call) gets its
-- hash from the full check. The looked-up account's hash (register_user,
-- login) is computed here.
CREATE FUNCTION zkeb_private.audit_context_hashes()
RETURNS bytea[]
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.session_token', true);
    _cached text;
    _uid uuid;
    _hashes bytea[] := '{}';
BEGIN
    IF pg_catalog.length(_hex) = 96 AND _hex = pg_catalog.current_setting('zkeb.session_checked', true) THEN
        _cached := pg_catalog.current_setting('zkeb.session_audit_hash', true);
        IF pg_catalog.length(_cached) = 64 THEN
            _hashes := _hashes || pg_catalog.decode(_cached, 'hex');
        ELSE
            _uid := NULLIF(pg_catalog.current_setting('zkeb.session_user_id', true), '')::uuid;
            IF _uid IS NOT NULL THEN
                _hashes := _hashes || zkeb_private.audit_user_hash(_uid);
            END IF;
        END IF;
    ELSE
        _uid := zkeb_private.current_user_id();
        IF _uid IS NOT NULL THEN
            _hashes := _hashes || zkeb_private.audit_user_hash(_uid);
        END IF;
    END IF;
    -- The other contexts are empty in a session call: look at the setting
    -- before paying for the helper.
    IF pg_catalog.current_setting('zkeb.lookup_user_id', true) <> '' THEN
        _uid := zkeb_private.lookup_user_id();
        IF _uid IS NOT NULL THEN
            _hashes := _hashes || zkeb_private.audit_user_hash(_uid);
        END IF;
    END IF;
    IF pg_catalog.current_setting('zkeb.maintenance', true) <> '' AND zkeb_private.maintenance_active() THEN
        _hashes := _hashes || zkeb_private.audit_user_hash(NULL);
    END IF;
    RETURN _hashes;
END
$$;

COMMENT ON FUNCTION zkeb_private.audit_context_hashes() IS
    'Audit chain hashes the current transaction context may write to: its session user''s, its looked-up user''s, and the system chain under maintenance.';
REVOKE ALL ON FUNCTION zkeb_private.audit_context_hashes() FROM PUBLIC;

COMMIT;
