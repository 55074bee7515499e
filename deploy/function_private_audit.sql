-- Deploy zkeb:function_private_audit to pg
-- requires: table_audit_logs
-- requires: table_users
-- requires: function_private_audit_user_hash
-- requires: function_private_audit_append
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The one way to write an audit event. A user's chain head lives on the
-- user's row, which is locked here (the write being audited usually holds
-- it already), so tenants never serialise on a shared head; the system
-- chain (user_id NULL) is serialised by a transaction advisory lock and its
-- head is its last row (after retention, the audit_retention_anchor that
-- carries the last removed event's position and hash). The event itself is
-- written by audit_append.
CREATE FUNCTION zkeb_private.audit(
    user_id uuid, action text, success boolean, metadata jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _prev_id bigint;
    _prev bytea;
    _hash bytea;
BEGIN
    IF audit.action = 'audit_retention_anchor' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422',
            MESSAGE = 'audit_retention_anchor events are written by purge_audit_logs only';
    END IF;
    IF audit.user_id IS NULL THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(7547406301);
        SELECT l.event_id, l.row_hash INTO _prev_id, _prev
          FROM zkeb.audit_logs AS l
         WHERE l.user_hash = zkeb_private.audit_user_hash(NULL)
         ORDER BY l.event_id DESC
         LIMIT 1;
        PERFORM zkeb_private.audit_append(NULL, audit.action, audit.success, audit.metadata, _prev_id, _prev);
        RETURN;
    END IF;
    SELECT u.audit_event_id, u.audit_head INTO _prev_id, _prev
      FROM zkeb.users AS u
     WHERE u.user_id = audit.user_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such account';
    END IF;
    _hash := zkeb_private.audit_append(audit.user_id, audit.action, audit.success, audit.metadata, _prev_id, _prev);
    UPDATE zkeb.users AS u
       SET audit_event_id = COALESCE(_prev_id, 0) + 1, audit_head = _hash
     WHERE u.user_id = audit.user_id;
END
$$;

COMMENT ON FUNCTION zkeb_private.audit(uuid, text, boolean, jsonb) IS
    'Append one event to the audit chain of user_id (NULL: the system chain), computing its position and hash. Errors: ZK404 no such account; ZK422 action reserved for retention.';
REVOKE ALL ON FUNCTION zkeb_private.audit(uuid, text, boolean, jsonb) FROM PUBLIC;

COMMIT;
