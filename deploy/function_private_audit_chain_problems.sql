-- Deploy zkeb:function_private_audit_chain_problems to pg
-- requires: table_audit_logs
-- requires: table_users
-- requires: function_private_audit_row_hash
-- requires: function_private_audit_user_hash
-- requires: policy_audit_logs
-- requires: policy_users
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Walks every audit chain once, in primary-key order, and reports each
-- chain's length and its first bad event (docs/audit.md):
--   * inside a chain: every event recomputes to its row_hash, links to the
--     previous event's row_hash, and follows it by exactly one position; the
--     first event is event 1 linked to 32 zero bytes, or an
--     audit_retention_anchor (written by retention, trusted as the cut);
--   * against a checkpoint (export_audit_checkpoint's rows as a JSON array):
--     the chain still reaches the exported position, with the exported hash;
--   * with_heads (maintenance only: it reads zkeb.users): the last event of
--     each live account's chain is the head stored on the account's row.
-- A missing run of events is reported at its first missing position.
CREATE FUNCTION zkeb_private.audit_chain_problems(checkpoint jsonb, with_heads boolean)
RETURNS TABLE (chain_user_hash bytea, chain_user_id uuid, chain_events bigint,
               bad_event_id bigint, bad_reason text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
-- One pass over the whole log: JIT compiling it took longer than it saved.
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    _zero bytea := pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
    _hex constant text := '^(\\x)?[0-9a-fA-F]{64}$';
BEGIN
    IF audit_chain_problems.checkpoint IS NOT NULL
       AND (pg_catalog.jsonb_typeof(audit_chain_problems.checkpoint) IS DISTINCT FROM 'array'
            OR EXISTS (
                SELECT 1
                  FROM pg_catalog.jsonb_array_elements(audit_chain_problems.checkpoint) AS e(v)
                 WHERE pg_catalog.jsonb_typeof(e.v) IS DISTINCT FROM 'object'
                    OR pg_catalog.jsonb_typeof(e.v -> 'user_hash') IS DISTINCT FROM 'string'
                    OR pg_catalog.jsonb_typeof(e.v -> 'last_row_hash') IS DISTINCT FROM 'string'
                    OR pg_catalog.jsonb_typeof(e.v -> 'last_event_id') IS DISTINCT FROM 'number'
                    OR (e.v ->> 'user_hash') !~ _hex
                    OR (e.v ->> 'last_row_hash') !~ _hex
                    OR (e.v ->> 'last_event_id') !~ '^[1-9][0-9]{0,17}$')) THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422',
            MESSAGE = 'checkpoint must be a JSON array of {user_hash, last_event_id, last_row_hash} objects as export_audit_checkpoint returns them',
            HINT = 'SELECT jsonb_agg(to_jsonb(r)) FROM zkeb_maint.export_audit_checkpoint() AS r';
    END IF;

    RETURN QUERY
    WITH r AS (
        SELECT l.user_hash, l.event_id, l.action, l.prev_hash, l.row_hash,
               pg_catalog.lag(l.event_id) OVER w AS p_id,
               pg_catalog.lag(l.row_hash) OVER w AS p_hash,
               pg_catalog.lead(l.event_id) OVER w IS NULL AS is_last,
               -- zkeb_private.audit_row_hash(...) written out: a function with a
               -- pinned search_path is never inlined, and the call cost three
               -- times the hashing. Both must stay byte for byte the same
               -- encoding (docs/audit.md; tests verify chains audit() wrote).
               CASE WHEN l.action = 'audit_retention_anchor' THEN l.row_hash
                    ELSE pg_catalog.sha256(
                             l.prev_hash
                             || pg_catalog.convert_to(
                                    pg_catalog.concat_ws('|',
                                        'zkeb-audit-v1',
                                        pg_catalog.encode(l.user_hash, 'hex'),
                                        l.event_id::text,
                                        l.action,
                                        CASE WHEN l.success THEN 't' ELSE 'f' END,
                                        (EXTRACT(EPOCH FROM l.created_at) * 1000000)::numeric(20, 0)::text,
                                        l.metadata::text),
                                    'UTF8'))
               END AS computed
          FROM zkeb.audit_logs AS l
        WINDOW w AS (PARTITION BY l.user_hash ORDER BY l.event_id)
    ), v AS (
        SELECT r.user_hash, r.event_id, r.row_hash, r.is_last,
               CASE
                   WHEN r.p_id IS NULL AND r.action = 'audit_retention_anchor' THEN NULL
                   WHEN r.p_id IS NULL AND r.event_id <> 1 THEN pg_catalog.format(
                       'events 1 to %s are missing and no retention anchor stands for them', r.event_id - 1)
                   WHEN r.p_id IS NULL AND r.prev_hash <> _zero THEN
                       'the first event does not link to the zero hash'
                   WHEN r.action = 'audit_retention_anchor' THEN
                       'a retention anchor in the middle of the chain'
                   WHEN r.event_id <> r.p_id + 1 THEN pg_catalog.format(
                       'events %s to %s are missing', r.p_id + 1, r.event_id - 1)
                   WHEN r.prev_hash <> r.p_hash THEN
                       'prev_hash is not the row_hash of the previous event'
                   WHEN r.row_hash <> r.computed THEN
                       'row_hash does not match the event''s content'
               END AS reason,
               CASE
                   WHEN r.action = 'audit_retention_anchor' THEN r.event_id
                   WHEN r.p_id IS NULL AND r.event_id <> 1 THEN 1
                   WHEN r.p_id IS NOT NULL AND r.event_id <> r.p_id + 1 THEN r.p_id + 1
                   ELSE r.event_id
               END AS bad_id
          FROM r
    ), c AS (
        SELECT v.user_hash, pg_catalog.count(*) AS n, pg_catalog.max(v.event_id) AS last_id,
               (pg_catalog.array_agg(v.row_hash) FILTER (WHERE v.is_last))[1] AS last_hash
          FROM v
         GROUP BY v.user_hash
    ), cp AS (
        SELECT pg_catalog.decode(pg_catalog.right(e.v ->> 'user_hash', 64), 'hex') AS user_hash,
               (e.v ->> 'last_event_id')::bigint AS k,
               pg_catalog.decode(pg_catalog.right(e.v ->> 'last_row_hash', 64), 'hex') AS h
          FROM pg_catalog.jsonb_array_elements(
                   COALESCE(audit_chain_problems.checkpoint, '[]'::jsonb)) AS e(v)
    ), cp_bad AS (
        SELECT cp.user_hash,
               CASE WHEN c.user_hash IS NULL THEN cp.k
                    WHEN c.last_id < cp.k THEN c.last_id + 1
                    ELSE cp.k
               END AS bad_id,
               CASE WHEN c.user_hash IS NULL THEN pg_catalog.format(
                        'the chain is gone; the checkpoint has it up to event %s', cp.k)
                    WHEN c.last_id < cp.k THEN pg_catalog.format(
                        'the chain ends at event %s; the checkpoint has it up to event %s', c.last_id, cp.k)
                    WHEN v.row_hash <> cp.h THEN pg_catalog.format(
                        'event %s differs from the checkpoint', cp.k)
               END AS reason
          FROM cp
          LEFT JOIN c ON c.user_hash = cp.user_hash
          LEFT JOIN v ON v.user_hash = cp.user_hash AND v.event_id = cp.k
    ), u AS (
        SELECT a.user_id, zkeb_private.audit_user_hash(a.user_id) AS user_hash,
               a.audit_event_id, a.audit_head
          FROM zkeb.users AS a
         WHERE audit_chain_problems.with_heads
    ), head_bad AS (
        SELECT u.user_hash,
               CASE WHEN c.user_hash IS NULL THEN u.audit_event_id
                    WHEN c.last_id < u.audit_event_id THEN c.last_id + 1
                    WHEN c.last_id > u.audit_event_id THEN u.audit_event_id + 1
                    ELSE c.last_id
               END AS bad_id,
               CASE WHEN c.user_hash IS NULL AND u.audit_event_id > 0 THEN pg_catalog.format(
                        'the chain is gone; the account''s head is at event %s', u.audit_event_id)
                    WHEN c.user_hash IS NULL THEN NULL
                    WHEN c.last_id < u.audit_event_id THEN pg_catalog.format(
                        'the chain ends at event %s; the account''s head is at event %s', c.last_id, u.audit_event_id)
                    WHEN c.last_id > u.audit_event_id THEN pg_catalog.format(
                        'the chain goes on to event %s past the account''s head at event %s', c.last_id, u.audit_event_id)
                    WHEN c.last_hash IS DISTINCT FROM u.audit_head THEN pg_catalog.format(
                        'event %s is not the head stored on the account', c.last_id)
               END AS reason
          FROM u
          LEFT JOIN c ON c.user_hash = u.user_hash
    ), bad AS (
        SELECT DISTINCT ON (p.user_hash) p.user_hash, p.bad_id, p.reason
          FROM (SELECT v.user_hash, v.bad_id, v.reason FROM v WHERE v.reason IS NOT NULL
                UNION ALL
                SELECT cp_bad.user_hash, cp_bad.bad_id, cp_bad.reason FROM cp_bad WHERE cp_bad.reason IS NOT NULL
                UNION ALL
                SELECT head_bad.user_hash, head_bad.bad_id, head_bad.reason FROM head_bad WHERE head_bad.reason IS NOT NULL
               ) AS p
         ORDER BY p.user_hash, p.bad_id, p.reason
    )
    SELECT COALESCE(c.user_hash, bad.user_hash), u.user_id, COALESCE(c.n, 0)::bigint,
           bad.bad_id, bad.reason
      FROM c
      FULL JOIN bad ON bad.user_hash = c.user_hash
      LEFT JOIN u ON u.user_hash = COALESCE(c.user_hash, bad.user_hash);
END
$$;

COMMENT ON FUNCTION zkeb_private.audit_chain_problems(jsonb, boolean) IS
    'One row per audit chain: its length and first bad event (with the reason), checked link by link, against an optional checkpoint and optionally against the heads on zkeb.users. Errors: ZK422 malformed checkpoint.';
REVOKE ALL ON FUNCTION zkeb_private.audit_chain_problems(jsonb, boolean) FROM PUBLIC;

COMMIT;
