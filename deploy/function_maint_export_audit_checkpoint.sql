-- Deploy zkeb:function_maint_export_audit_checkpoint to pg
-- requires: schema_zkeb_maint
-- requires: function_private_begin_audit_read
-- requires: table_audit_logs
-- requires: policy_audit_logs
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The heads an operator keeps outside the database; passed back to
-- verify_audit_chain as jsonb_agg(to_jsonb(r)) they catch a rewrite that
-- recomputed every hash.
CREATE FUNCTION zkeb_maint.export_audit_checkpoint()
RETURNS TABLE (user_hash bytea, last_event_id bigint, last_row_hash bytea)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM zkeb_private.begin_audit_read();
    RETURN QUERY
    SELECT DISTINCT ON (l.user_hash) l.user_hash, l.event_id, l.row_hash
      FROM zkeb.audit_logs AS l
     ORDER BY l.user_hash, l.event_id DESC;
END
$$;

COMMENT ON FUNCTION zkeb_maint.export_audit_checkpoint() IS
    'The last event (position and row_hash) of every audit chain, for the operator to store outside the database and pass back to verify_audit_chain. Errors: ZK403 caller is not a member of zkeb_auditor or zkeb_maintainer.';
REVOKE ALL ON FUNCTION zkeb_maint.export_audit_checkpoint() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_maint.export_audit_checkpoint() TO zkeb_maintainer, zkeb_auditor;

COMMIT;
