-- Which needles occur in one column (the column expression and table are
-- substituted by zkeb_db.demo with psycopg.sql, never from user input).
-- Every value is searched as bytes: bytea as it is, anything else as the
-- UTF-8 of its text form (jsonb included).
SELECT DISTINCT n.ord
  FROM {table} AS t
 CROSS JOIN pg_catalog.unnest(%(needles)s::bytea[]) WITH ORDINALITY AS n(needle, ord)
 WHERE {value} IS NOT NULL
   AND pg_catalog.position({value}, n.needle) > 0
