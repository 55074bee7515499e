-- Every column of every table (and materialized view) in the given schemas,
-- partitions excluded (scanning the parent reads them).  is_bytea says
-- whether the value is scanned as bytes or as its text form.
SELECT n.nspname                              AS schema,
       c.relname                              AS "table",
       a.attname                              AS "column",
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       a.atttypid = 'pg_catalog.bytea'::pg_catalog.regtype AS is_bytea
  FROM pg_catalog.pg_class AS c
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid
 WHERE n.nspname = ANY (%(schemas)s)
   AND c.relkind IN ('r', 'p', 'm')
   AND NOT c.relispartition
   AND a.attnum > 0
   AND NOT a.attisdropped
 ORDER BY n.nspname, c.relname, a.attnum
