-- Buffer cache hit ratio of this database since the statistics were last
-- reset: blocks found in shared buffers / blocks asked for.
SELECT d.blks_hit,
       d.blks_read,
       CASE WHEN d.blks_hit + d.blks_read > 0
            THEN round(d.blks_hit::numeric / (d.blks_hit + d.blks_read), 6)::float8
       END AS cache_hit_ratio,
       d.stats_reset
  FROM pg_catalog.pg_stat_database AS d
 WHERE d.datname = pg_catalog.current_database()
