-- Every function of the public schemas with what the API reference shows:
-- signature, result columns, comment, language, volatility and who may
-- EXECUTE it.
SELECT n.nspname                                              AS schema,
       p.proname                                              AS name,
       pg_catalog.pg_get_function_identity_arguments(p.oid)   AS identity_arguments,
       pg_catalog.pg_get_function_arguments(p.oid)            AS arguments,
       pg_catalog.pg_get_function_result(p.oid)               AS result,
       p.proretset                                            AS returns_set,
       COALESCE((
           SELECT pg_catalog.array_agg(a.name ORDER BY a.ord)
             FROM ROWS FROM (pg_catalog.unnest(p.proargnames), pg_catalog.unnest(p.proargmodes))
                  WITH ORDINALITY AS a(name, mode, ord)
            WHERE a.mode IN ('t', 'o', 'b')), '{}')           AS out_names,
       COALESCE((
           SELECT pg_catalog.array_agg(pg_catalog.format_type(a.typ, NULL) ORDER BY a.ord)
             FROM ROWS FROM (pg_catalog.unnest(p.proallargtypes), pg_catalog.unnest(p.proargmodes))
                  WITH ORDINALITY AS a(typ, mode, ord)
            WHERE a.mode IN ('t', 'o', 'b')), '{}')           AS out_types,
       pg_catalog.obj_description(p.oid, 'pg_proc')           AS comment,
       l.lanname                                              AS language,
       CASE p.provolatile WHEN 'i' THEN 'immutable'
                          WHEN 's' THEN 'stable'
                          ELSE 'volatile' END                 AS volatility,
       p.prosecdef                                            AS security_definer,
       COALESCE((
           SELECT pg_catalog.array_agg(
                      CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
                           ELSE pg_catalog.pg_get_userbyid(acl.grantee) END
                      ORDER BY 1)
             FROM pg_catalog.aclexplode(
                      COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) AS acl
            WHERE acl.privilege_type = 'EXECUTE'
              AND acl.grantee <> p.proowner), '{}')           AS execute_granted_to
  FROM pg_catalog.pg_proc AS p
  JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
 WHERE n.nspname = ANY (%(schemas)s)
 ORDER BY n.nspname, p.proname, 3
