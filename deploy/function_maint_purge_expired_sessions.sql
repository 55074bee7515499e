-- Deploy zkeb:function_maint_purge_expired_sessions to pg
-- requires: schema_zkeb_maint
-- requires: function_private_begin_maintenance
-- requires: function_private_audit
-- requires: table_sessions
-- requires: policy_sessions
-- requires: policy_maint_row_locks
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Expired sessions only (revoked ones too, once they expire: at most the
-- 30-day maximum TTL later), found through sessions_expires_at_idx.
CREATE FUNCTION zkeb_maint.purge_expired_sessions(batch_size integer DEFAULT 10000)
RETURNS TABLE (deleted_count bigint)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A batch is a few index scans; JIT compiling them cost more than running them.
SET jit = off
AS $$
DECLARE
    _deleted bigint;
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    IF purge_expired_sessions.batch_size IS NULL
       OR purge_expired_sessions.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'batch_size must be 1 to 100000';
    END IF;
    WITH claimed AS (
        SELECT s.user_id, s.token_hash
          FROM zkeb.sessions AS s
         WHERE s.expires_at <= pg_catalog.now()
         ORDER BY s.expires_at
         LIMIT purge_expired_sessions.batch_size
           FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM zkeb.sessions AS s
         USING claimed AS c
         WHERE s.user_id = c.user_id AND s.token_hash = c.token_hash
        RETURNING 1
    )
    SELECT pg_catalog.count(*) INTO _deleted FROM gone;
    PERFORM zkeb_private.audit(NULL, 'maint_purge_sessions', true,
        pg_catalog.jsonb_build_object('deleted_count', _deleted,
                                      'batch_size', purge_expired_sessions.batch_size));
    RETURN QUERY SELECT _deleted;
END
$$;

COMMENT ON FUNCTION zkeb_maint.purge_expired_sessions(integer) IS
    'Delete up to batch_size expired sessions, skipping rows locked by others, and log the run on the system audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK422 batch_size outside 1..100000.';
REVOKE ALL ON FUNCTION zkeb_maint.purge_expired_sessions(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_maint.purge_expired_sessions(integer) TO zkeb_maintainer;

COMMIT;
