-- Deploy zkeb:function_maint_purge_audit_logs to pg
-- requires: schema_zkeb_maint
-- requires: function_private_begin_maintenance
-- requires: function_private_audit
-- requires: function_private_settings
-- requires: policy_audit_logs
-- requires: trigger_audit_logs_append_only
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Retention cuts each chain at a prefix and leaves an audit_retention_anchor
-- in place of the last removed event (same position, same prev_hash and
-- row_hash), so what remains still verifies link by link and against older
-- checkpoints (docs/audit.md). older_than defaults to NULL so that the
-- audit_retention setting wins when the argument is left out (api.md).
CREATE FUNCTION zkeb_maint.purge_audit_logs(older_than interval DEFAULT NULL, batch_size integer DEFAULT 10000)
RETURNS TABLE (deleted_count bigint)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A batch is a few index scans; JIT compiling them cost more than running them.
SET jit = off
AS $$
DECLARE
    _older interval;
    _cutoff timestamptz;
    _hashes bytea[];
    _lasts bigint[];
    _tids tid[];
    _deleted bigint := 0;
    _chains bigint := 0;
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    IF purge_audit_logs.batch_size IS NULL OR purge_audit_logs.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'batch_size must be 1 to 100000';
    END IF;
    _older := COALESCE(purge_audit_logs.older_than, (zkeb_private.settings()).audit_retention);
    IF _older < interval '1 day' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'older_than must be at least 1 day';
    END IF;
    _cutoff := pg_catalog.now() - _older;

    -- The oldest events first, through the partial created_at index; each
    -- chain is cut after the newest of its events in the batch. A chain that
    -- another purge holds is left for the next run: no row locks (the log
    -- has no UPDATE policy, so FOR UPDATE cannot be used), a try-lock per
    -- chain instead, never waited for.
    SELECT pg_catalog.array_agg(o.user_hash ORDER BY o.user_hash),
           pg_catalog.array_agg(o.last_id ORDER BY o.user_hash)
      INTO _hashes, _lasts
      FROM (SELECT b.user_hash, pg_catalog.max(b.event_id) AS last_id
              FROM (SELECT l.user_hash, l.event_id
                      FROM zkeb.audit_logs AS l
                     WHERE l.created_at < _cutoff
                       AND l.action <> 'audit_retention_anchor'
                     ORDER BY l.created_at
                     LIMIT purge_audit_logs.batch_size) AS b
             GROUP BY b.user_hash) AS o
     WHERE pg_catalog.pg_try_advisory_xact_lock(
               7547406,
               ('x' || pg_catalog.encode(pg_catalog.substr(o.user_hash, 1, 4), 'hex'))::bit(32)::integer);

    IF _hashes IS NOT NULL THEN
        -- The whole prefix of each chain (event_id <= the cut), found with
        -- one primary-key range scan per chain: the aggregate keeps the
        -- lateral subquery parameterised (a plain join was planned as a hash
        -- join over the whole log). Audit rows are never updated and these
        -- chains are ours until commit, so their ctids stay put.
        SELECT pg_catalog.array_agg(x.tid)
          INTO _tids
          FROM (SELECT pg_catalog.unnest(p.tids) AS tid
                  FROM ROWS FROM (pg_catalog.unnest(_hashes), pg_catalog.unnest(_lasts)) AS t(user_hash, last_id)
                 CROSS JOIN LATERAL (
                       SELECT pg_catalog.array_agg(l.ctid) AS tids
                         FROM zkeb.audit_logs AS l
                        WHERE l.user_hash = t.user_hash
                          AND l.event_id <= t.last_id) AS p) AS x;
        -- The append-only trigger lets this DELETE through, and nothing else.
        PERFORM pg_catalog.set_config('zkeb.audit_purge', 'on', true);
        WITH cut AS (
            SELECT t.user_hash, t.last_id
              FROM ROWS FROM (pg_catalog.unnest(_hashes), pg_catalog.unnest(_lasts)) AS t(user_hash, last_id)
        ), gone AS (
            DELETE FROM zkeb.audit_logs AS l
             WHERE l.ctid = ANY (_tids)
            RETURNING l.user_hash, l.event_id, l.action, l.metadata, l.created_at, l.prev_hash, l.row_hash
        ), anchors AS (
            INSERT INTO zkeb.audit_logs (user_hash, event_id, action, success, metadata, created_at, prev_hash, row_hash)
            SELECT g.user_hash, g.event_id, 'audit_retention_anchor', true,
                   CASE WHEN g.action = 'audit_retention_anchor' THEN g.metadata
                        ELSE pg_catalog.jsonb_build_object(
                                 'purged_through_event_id', g.event_id,
                                 'last_purged_action', g.action,
                                 'last_purged_created_at', g.created_at,
                                 'older_than', _older::text)
                   END,
                   pg_catalog.clock_timestamp(), g.prev_hash, g.row_hash
              FROM gone AS g
              JOIN cut ON cut.user_hash = g.user_hash AND cut.last_id = g.event_id
            RETURNING 1
        )
        SELECT pg_catalog.count(*) FILTER (WHERE g.action <> 'audit_retention_anchor'),
               (SELECT pg_catalog.count(*) FROM anchors)
          INTO _deleted, _chains
          FROM gone AS g;
        PERFORM pg_catalog.set_config('zkeb.audit_purge', '', true);
    END IF;

    PERFORM zkeb_private.audit(NULL, 'maint_purge_audit', true,
        pg_catalog.jsonb_build_object('deleted_count', _deleted, 'chains_cut', _chains,
                                      'older_than', _older::text, 'batch_size', purge_audit_logs.batch_size));
    RETURN QUERY SELECT _deleted;
END
$$;

COMMENT ON FUNCTION zkeb_maint.purge_audit_logs(interval, integer) IS
    'Remove up to batch_size audit events older than older_than (default: the audit_retention setting, 6 years), cutting each chain at a prefix and leaving a retention anchor so the rest still verifies; logs the run on the system audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK422 batch_size outside 1..100000 or older_than below 1 day.';
REVOKE ALL ON FUNCTION zkeb_maint.purge_audit_logs(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_maint.purge_audit_logs(interval, integer) TO zkeb_maintainer;

COMMIT;
