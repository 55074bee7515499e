-- Deploy zkeb:function_api_list_audit_events to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit_user_hash
-- requires: policy_audit_logs
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.list_audit_events(
    session_token bytea,
    page_size integer DEFAULT 50,
    before_id bigint DEFAULT NULL)
RETURNS TABLE (
    event_id bigint,
    action text,
    success boolean,
    created_at timestamp with time zone,
    metadata jsonb)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
    _user_hash bytea;
BEGIN
    _uid := zkeb_private.begin_session(list_audit_events.session_token);
    IF list_audit_events.page_size IS NULL OR list_audit_events.page_size < 1 OR list_audit_events.page_size > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'page_size must be between 1 and 1000',
            DETAIL = pg_catalog.format('page_size is %s', list_audit_events.page_size);
    END IF;
    IF list_audit_events.before_id < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'before_id must be positive';
    END IF;
    _user_hash := zkeb_private.audit_user_hash(_uid);
    RETURN QUERY
    SELECT l.event_id, l.action, l.success, l.created_at, l.metadata
      FROM zkeb.audit_logs AS l
     WHERE l.user_hash = _user_hash
       AND l.event_id < COALESCE(list_audit_events.before_id, 9223372036854775807)
     ORDER BY l.event_id DESC
     LIMIT list_audit_events.page_size;
END
$$;

COMMENT ON FUNCTION zkeb_api.list_audit_events(bytea, integer, bigint) IS
    'Return the caller''s own audit trail, newest first, one keyset page before before_id; event_id is the position in the caller''s own chain. Errors: ZK401 no valid session; ZK403 account suspended; ZK422 page_size not in 1..1000 or before_id not positive.';
REVOKE ALL ON FUNCTION zkeb_api.list_audit_events(bytea, integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.list_audit_events(bytea, integer, bigint) TO zkeb_app;

COMMIT;
