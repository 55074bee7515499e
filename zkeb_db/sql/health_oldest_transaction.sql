-- The oldest open transaction in the whole cluster (it holds back VACUUM in
-- every database), and the oldest prepared transaction.  Without
-- pg_read_all_stats (pg_monitor) other roles' transactions are invisible.
SELECT a.pid,
       a.datname                                                        AS database,
       a.usename                                                        AS "user",
       a.state,
       a.application_name,
       EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - a.xact_start)::float8 AS age_seconds,
       pg_catalog.age(a.backend_xmin)                                   AS xmin_age,
       (SELECT count(*) FROM pg_catalog.pg_stat_activity AS o
         WHERE o.xact_start IS NOT NULL AND o.pid <> pg_catalog.pg_backend_pid()) AS open_transactions,
       (SELECT EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - min(p.prepared))::float8
          FROM pg_catalog.pg_prepared_xacts AS p)                       AS oldest_prepared_age_seconds
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
        SELECT x.*
          FROM pg_catalog.pg_stat_activity AS x
         WHERE x.xact_start IS NOT NULL
           AND x.pid <> pg_catalog.pg_backend_pid()
         ORDER BY x.xact_start
         LIMIT 1) AS a ON true
