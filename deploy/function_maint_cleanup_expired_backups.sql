-- Deploy zkeb:function_maint_cleanup_expired_backups to pg
-- requires: schema_zkeb_maint
-- requires: function_private_begin_maintenance
-- requires: function_private_audit
-- requires: function_private_purge_backups
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_maint.cleanup_expired_backups(batch_size integer DEFAULT 10000)
RETURNS TABLE (deleted_count bigint, bytes_freed bigint)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A batch is a few index scans; JIT compiling them cost more than running them.
SET jit = off
AS $$
DECLARE
    _deleted bigint;
    _freed bigint;
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    IF cleanup_expired_backups.batch_size IS NULL
       OR cleanup_expired_backups.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'batch_size must be 1 to 100000';
    END IF;
    SELECT p.deleted_count, p.bytes_freed INTO _deleted, _freed
      FROM zkeb_private.purge_backups(true, pg_catalog.now(), cleanup_expired_backups.batch_size) AS p;
    -- Last, so the system chain's lock is held only for the commit.
    PERFORM zkeb_private.audit(NULL, 'maint_cleanup_expired', true,
        pg_catalog.jsonb_build_object('deleted_count', _deleted, 'bytes_freed', _freed,
                                      'batch_size', cleanup_expired_backups.batch_size));
    RETURN QUERY SELECT _deleted, _freed;
END
$$;

COMMENT ON FUNCTION zkeb_maint.cleanup_expired_backups(integer) IS
    'Delete up to batch_size expired backups (expires_at <= now()), skipping rows and accounts locked by others, give their bytes back to each owner in the same transaction and log the run on the system audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK422 batch_size outside 1..100000.';
REVOKE ALL ON FUNCTION zkeb_maint.cleanup_expired_backups(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_maint.cleanup_expired_backups(integer) TO zkeb_maintainer;

COMMIT;
