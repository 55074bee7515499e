-- Deploy zkeb:function_maint_purge_trash to pg
-- requires: schema_zkeb_maint
-- requires: function_private_begin_maintenance
-- requires: function_private_audit
-- requires: function_private_settings
-- requires: function_private_purge_backups
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- older_than defaults to NULL so that the deployment's trash_retention
-- setting wins when the argument is left out (api.md).
CREATE FUNCTION zkeb_maint.purge_trash(older_than interval DEFAULT NULL, batch_size integer DEFAULT 10000)
RETURNS TABLE (deleted_count bigint, bytes_freed bigint)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A batch is a few index scans; JIT compiling them cost more than running them.
SET jit = off
AS $$
DECLARE
    _older interval;
    _deleted bigint;
    _freed bigint;
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    IF purge_trash.batch_size IS NULL OR purge_trash.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'batch_size must be 1 to 100000';
    END IF;
    _older := COALESCE(purge_trash.older_than, (zkeb_private.settings()).trash_retention);
    IF _older < interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'older_than must not be negative';
    END IF;
    SELECT p.deleted_count, p.bytes_freed INTO _deleted, _freed
      FROM zkeb_private.purge_backups(false, pg_catalog.now() - _older, purge_trash.batch_size) AS p;
    PERFORM zkeb_private.audit(NULL, 'maint_purge_trash', true,
        pg_catalog.jsonb_build_object('deleted_count', _deleted, 'bytes_freed', _freed,
                                      'older_than', _older::text, 'batch_size', purge_trash.batch_size));
    RETURN QUERY SELECT _deleted, _freed;
END
$$;

COMMENT ON FUNCTION zkeb_maint.purge_trash(interval, integer) IS
    'Delete up to batch_size backups that have been in the trash longer than older_than (default: the trash_retention setting), give their bytes back in the same transaction and log the run on the system audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK422 batch_size outside 1..100000 or negative older_than.';
REVOKE ALL ON FUNCTION zkeb_maint.purge_trash(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_maint.purge_trash(interval, integer) TO zkeb_maintainer;

COMMIT;
