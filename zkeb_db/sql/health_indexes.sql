-- Every index in the project schemas: how often it is used and how big it is.
SELECT n.nspname || '.' || ic.relname                  AS "index",
       n.nspname || '.' || tc.relname                  AS "table",
       COALESCE(s.idx_scan, 0)                         AS idx_scan,
       COALESCE(s.idx_tup_read, 0)                     AS idx_tup_read,
       COALESCE(s.idx_tup_fetch, 0)                    AS idx_tup_fetch,
       pg_catalog.pg_relation_size(ic.oid)             AS size_bytes,
       i.indisunique                                   AS is_unique,
       i.indisvalid                                    AS is_valid,
       i.indpred IS NOT NULL                           AS is_partial
  FROM pg_catalog.pg_index AS i
  JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
  JOIN pg_catalog.pg_class AS tc ON tc.oid = i.indrelid
  JOIN pg_catalog.pg_namespace AS n ON n.oid = ic.relnamespace
  LEFT JOIN pg_catalog.pg_stat_all_indexes AS s ON s.indexrelid = i.indexrelid
 WHERE n.nspname = ANY (%(schemas)s)
 ORDER BY 1
