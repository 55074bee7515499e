-- Verify zkeb:function_private_guard_violations on pg
-- Runs the checker: fails when the function is missing or wrongly granted,
-- and when any zero-knowledge or tenancy rule is violated anywhere in the
-- database (Sqitch runs every deployed change's verify script, so real
-- `sqitch verify` asserts the whole catalog). search_path = pg_catalog keeps
-- the deparsed policy expressions fully qualified.
BEGIN;
SET LOCAL search_path = pg_catalog;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_private.guard_violations()'::regprocedure;
    _count bigint;
    _list text;
BEGIN
    IF (SELECT p.proowner FROM pg_catalog.pg_proc AS p WHERE p.oid = _fn)
       <> (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = 'zkeb_owner') THEN
        RAISE EXCEPTION 'verify function_private_guard_violations: not owned by zkeb_owner';
    END IF;
    IF pg_catalog.has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_guard_violations: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc AS p
                    WHERE p.oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (p.proconfig)) THEN
        RAISE EXCEPTION 'verify function_private_guard_violations: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    SELECT pg_catalog.count(*),
           pg_catalog.string_agg(pg_catalog.format('  %s: %s (%s)', v.rule, v.object, v.detail),
                                 E'\n' ORDER BY v.rule, v.object, v.detail)
      INTO _count, _list
      FROM zkeb_private.guard_violations() AS v;
    IF _count > 0 THEN
        RAISE EXCEPTION 'verify function_private_guard_violations: % zero-knowledge/tenancy violation(s):%',
            _count, E'\n' || _list;
    END IF;
END
$$;

ROLLBACK;
