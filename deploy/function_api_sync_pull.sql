-- Deploy zkeb:function_api_sync_pull to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: policy_sync_metadata
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.sync_pull(
    session_token bytea,
    after_seq bigint DEFAULT 0,
    page_size integer DEFAULT 100)
RETURNS TABLE (
    seq bigint,
    entity_hash bytea,
    device_id uuid,
    vector_clock jsonb,
    lamport bigint,
    payload bytea,
    is_sibling boolean)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(sync_pull.session_token);
    IF sync_pull.after_seq IS NULL OR sync_pull.after_seq < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'after_seq must be a non-negative integer';
    END IF;
    IF sync_pull.page_size IS NULL OR sync_pull.page_size < 1 OR sync_pull.page_size > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'page_size must be between 1 and 1000',
            DETAIL = pg_catalog.format('page_size is %s', sync_pull.page_size);
    END IF;
    RETURN QUERY
    SELECT m.seq, m.entity_hash, m.device_id, m.vector_clock, m.lamport, m.payload, m.is_sibling
      FROM zkeb.sync_metadata AS m
     WHERE m.user_id = _uid AND m.seq > sync_pull.after_seq
     ORDER BY m.seq
     LIMIT sync_pull.page_size;
END
$$;

COMMENT ON FUNCTION zkeb_api.sync_pull(bytea, bigint, integer) IS
    'Return the caller''s current sync heads and siblings whose last change has seq > after_seq, in seq order, one page at a time. Errors: ZK401 no valid session; ZK403 account suspended; ZK422 after_seq negative or page_size not in 1..1000.';
REVOKE ALL ON FUNCTION zkeb_api.sync_pull(bytea, bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.sync_pull(bytea, bigint, integer) TO zkeb_app;

COMMIT;
