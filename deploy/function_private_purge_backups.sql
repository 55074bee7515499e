-- Deploy zkeb:function_private_purge_backups to pg
-- requires: table_encrypted_backups
-- requires: table_users
-- requires: policy_encrypted_backups
-- requires: policy_users
-- requires: policy_maint_row_locks
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The one batch delete behind cleanup_expired_backups (expired = true:
-- expires_at <= cutoff) and purge_trash (expired = false: deleted_at <=
-- cutoff). It never waits for a row lock, so it can take part in no deadlock
-- and stalls nobody for longer than its own short transaction:
--   1. claim up to batch_size rows through the partial index, oldest first,
--      FOR UPDATE SKIP LOCKED (another worker's or an API call's rows are
--      left alone);
--   2. lock the owners' user rows in user_id order, SKIP LOCKED as well (a
--      user busy in an API call keeps its claimed backups until the next run);
--   3. delete the claimed backups of the locked users by ctid (a TID scan: a
--      row we hold locked keeps its ctid; a join on the key made the planner
--      hash the whole table) and give their bytes back with one UPDATE per
--      user, in this same transaction.
CREATE FUNCTION zkeb_private.purge_backups(expired boolean, cutoff timestamptz, batch_size integer)
RETURNS TABLE (deleted_count bigint, bytes_freed bigint)
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uids uuid[];
    _tids tid[];
    _locked uuid[];
BEGIN
    IF purge_backups.expired THEN
        SELECT pg_catalog.array_agg(c.user_id), pg_catalog.array_agg(c.ctid)
          INTO _uids, _tids
          FROM (SELECT b.user_id, b.ctid
                  FROM zkeb.encrypted_backups AS b
                 WHERE b.expires_at <= purge_backups.cutoff
                 ORDER BY b.expires_at
                 LIMIT purge_backups.batch_size
                   FOR UPDATE SKIP LOCKED) AS c;
    ELSE
        SELECT pg_catalog.array_agg(c.user_id), pg_catalog.array_agg(c.ctid)
          INTO _uids, _tids
          FROM (SELECT b.user_id, b.ctid
                  FROM zkeb.encrypted_backups AS b
                 WHERE b.deleted_at <= purge_backups.cutoff
                 ORDER BY b.deleted_at
                 LIMIT purge_backups.batch_size
                   FOR UPDATE SKIP LOCKED) AS c;
    END IF;
    IF _uids IS NULL THEN
        RETURN QUERY SELECT 0::bigint, 0::bigint;
        RETURN;
    END IF;

    SELECT pg_catalog.array_agg(l.user_id)
      INTO _locked
      FROM (SELECT u.user_id
              FROM zkeb.users AS u
             WHERE u.user_id = ANY (_uids)
             ORDER BY u.user_id
               FOR UPDATE SKIP LOCKED) AS l;

    RETURN QUERY
    WITH gone AS (
        DELETE FROM zkeb.encrypted_backups AS b
         WHERE b.ctid = ANY (_tids)
           AND b.user_id = ANY (_locked)
        RETURNING b.user_id, b.size_bytes
    ), per_user AS (
        SELECT g.user_id, pg_catalog.count(*) AS n, pg_catalog.sum(g.size_bytes)::bigint AS freed
          FROM gone AS g
         GROUP BY g.user_id
    ), given_back AS (
        UPDATE zkeb.users AS u
           SET storage_used_bytes = u.storage_used_bytes - p.freed
          FROM per_user AS p
         WHERE u.user_id = p.user_id
        RETURNING p.n, p.freed
    )
    SELECT COALESCE(pg_catalog.sum(g.n), 0)::bigint, COALESCE(pg_catalog.sum(g.freed), 0)::bigint
      FROM given_back AS g;
END
$$;

COMMENT ON FUNCTION zkeb_private.purge_backups(boolean, timestamp with time zone, integer) IS
    'Delete one batch of expired (or trashed) backups older than cutoff, skipping locked rows, and give their bytes back per user in the same transaction.';
REVOKE ALL ON FUNCTION zkeb_private.purge_backups(boolean, timestamp with time zone, integer) FROM PUBLIC;

COMMIT;
