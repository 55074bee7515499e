-- Rows waiting for maintenance, with the age of the oldest one (a monitoring
-- system alerts when that age grows past the maintenance interval).  Reads
-- the tables, so it needs a role that bypasses row level security (the
-- deployer); other roles see an error for this section only.
WITH s AS (
    SELECT st.trash_retention, st.audit_retention
      FROM zkeb_private.settings AS st
), now AS (
    SELECT pg_catalog.now() AS t
)
SELECT s.trash_retention::text                                         AS trash_retention,
       s.audit_retention::text                                         AS audit_retention,
       e.n                                                             AS expired_backups,
       e.bytes                                                         AS expired_backup_bytes,
       e.oldest                                                        AS expired_backups_oldest_seconds,
       t.n                                                             AS trash_past_retention,
       t.bytes                                                         AS trash_past_retention_bytes,
       t.oldest                                                        AS trash_past_retention_oldest_seconds,
       x.n                                                             AS expired_sessions,
       x.oldest                                                        AS expired_sessions_oldest_seconds,
       a.n                                                             AS audit_rows_past_retention,
       a.oldest                                                        AS audit_rows_past_retention_oldest_seconds
  FROM s
 CROSS JOIN now
 CROSS JOIN LATERAL (
        SELECT count(*) AS n, COALESCE(sum(b.size_bytes), 0)::bigint AS bytes,
               EXTRACT(EPOCH FROM now.t - min(b.expires_at))::float8 AS oldest
          FROM zkeb.encrypted_backups AS b
         WHERE b.expires_at <= now.t) AS e
 CROSS JOIN LATERAL (
        SELECT count(*) AS n, COALESCE(sum(b.size_bytes), 0)::bigint AS bytes,
               EXTRACT(EPOCH FROM now.t - s.trash_retention - min(b.deleted_at))::float8 AS oldest
          FROM zkeb.encrypted_backups AS b
         WHERE b.deleted_at <= now.t - s.trash_retention) AS t
 CROSS JOIN LATERAL (
        SELECT count(*) AS n,
               EXTRACT(EPOCH FROM now.t - min(ss.expires_at))::float8 AS oldest
          FROM zkeb.sessions AS ss
         WHERE ss.expires_at <= now.t) AS x
 CROSS JOIN LATERAL (
        SELECT count(*) AS n,
               EXTRACT(EPOCH FROM now.t - s.audit_retention - min(l.created_at))::float8 AS oldest
          FROM zkeb.audit_logs AS l
         WHERE l.created_at < now.t - s.audit_retention
           AND l.action <> 'audit_retention_anchor') AS a
