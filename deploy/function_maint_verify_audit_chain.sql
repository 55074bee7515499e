-- Deploy zkeb:function_maint_verify_audit_chain to pg
-- requires: schema_zkeb_maint
-- requires: function_private_begin_audit_read
-- requires: function_private_audit_chain_problems
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Read-only: it writes no audit event of its own. Without a checkpoint it
-- proves every chain consistent with itself; with one it also proves that no
-- chain lost or rewrote what the checkpoint saw (docs/audit.md).
CREATE FUNCTION zkeb_maint.verify_audit_chain(checkpoint jsonb DEFAULT NULL)
RETURNS TABLE (ok boolean, checked_count bigint, first_bad_event_id bigint,
               first_bad_user_hash bytea, bad_chain_count bigint, detail text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    PERFORM zkeb_private.begin_audit_read();
    RETURN QUERY
    WITH p AS (
        SELECT * FROM zkeb_private.audit_chain_problems(verify_audit_chain.checkpoint, false)
    ), firstbad AS (
        SELECT p.chain_user_hash, p.bad_event_id, p.bad_reason
          FROM p
         WHERE p.bad_event_id IS NOT NULL
         ORDER BY p.chain_user_hash
         LIMIT 1
    ), agg AS (
        SELECT COALESCE(pg_catalog.sum(p.chain_events), 0)::bigint AS n,
               pg_catalog.count(*) AS chains,
               pg_catalog.count(*) FILTER (WHERE p.bad_event_id IS NOT NULL) AS bad
          FROM p
    )
    SELECT agg.bad = 0,
           agg.n,
           f.bad_event_id,
           f.chain_user_hash,
           agg.bad,
           CASE WHEN agg.bad = 0
                THEN pg_catalog.format('%s events in %s chains verified', agg.n, agg.chains)
                ELSE pg_catalog.format('chain %s: event %s: %s (%s of %s chains bad)',
                                       pg_catalog.encode(f.chain_user_hash, 'hex'), f.bad_event_id,
                                       f.bad_reason, agg.bad, agg.chains)
           END
      FROM agg
      LEFT JOIN firstbad AS f ON true;
END
$$;

COMMENT ON FUNCTION zkeb_maint.verify_audit_chain(jsonb) IS
    'Verify every audit chain link by link (and, given export_audit_checkpoint''s rows as a JSON array, that no chain lost or rewrote what the checkpoint saw), naming the first bad event; writes nothing. Errors: ZK403 caller is not a member of zkeb_auditor or zkeb_maintainer; ZK422 malformed checkpoint.';
REVOKE ALL ON FUNCTION zkeb_maint.verify_audit_chain(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_maint.verify_audit_chain(jsonb) TO zkeb_maintainer, zkeb_auditor;

COMMIT;
