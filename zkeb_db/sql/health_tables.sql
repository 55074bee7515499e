-- Size, tuples, dead tuples, vacuum history and cache hit ratio of every
-- table in the project schemas (partitions each on their own row).
SELECT n.nspname || '.' || c.relname                              AS "table",
       pg_catalog.pg_table_size(c.oid)                            AS table_bytes,
       pg_catalog.pg_indexes_size(c.oid)                          AS index_bytes,
       pg_catalog.pg_total_relation_size(c.oid)                   AS total_bytes,
       COALESCE(s.n_live_tup, 0)                                  AS live_tuples,
       COALESCE(s.n_dead_tup, 0)                                  AS dead_tuples,
       CASE WHEN COALESCE(s.n_live_tup, 0) + COALESCE(s.n_dead_tup, 0) > 0
            THEN round(s.n_dead_tup::numeric / (s.n_live_tup + s.n_dead_tup), 6)::float8
            ELSE 0::float8
       END                                                        AS dead_ratio,
       COALESCE(s.seq_scan, 0)                                    AS seq_scan,
       COALESCE(s.idx_scan, 0)                                    AS idx_scan,
       CASE WHEN COALESCE(io.heap_blks_hit, 0) + COALESCE(io.heap_blks_read, 0) > 0
            THEN round(io.heap_blks_hit::numeric / (io.heap_blks_hit + io.heap_blks_read), 6)::float8
       END                                                        AS heap_hit_ratio,
       GREATEST(s.last_vacuum, s.last_autovacuum)                 AS last_vacuum,
       GREATEST(s.last_analyze, s.last_autoanalyze)               AS last_analyze
  FROM pg_catalog.pg_class AS c
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_stat_all_tables AS s ON s.relid = c.oid
  LEFT JOIN pg_catalog.pg_statio_all_tables AS io ON io.relid = c.oid
 WHERE n.nspname = ANY (%(schemas)s)
   AND c.relkind IN ('r', 'p', 'm')
 ORDER BY 1
