-- Verify zkeb:function_maint_check_invariants on pg
BEGIN;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_maint.check_invariants()'::regprocedure;
BEGIN
    IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = _fn) <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_maint_check_invariants: not owned by zkeb_owner';
    END IF;
    IF has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_maint_check_invariants: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                    WHERE oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)) THEN
        RAISE EXCEPTION 'verify function_maint_check_invariants: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    IF NOT (SELECT prosecdef FROM pg_catalog.pg_proc WHERE oid = _fn) THEN
        RAISE EXCEPTION 'verify function_maint_check_invariants: not SECURITY DEFINER';
    END IF;
    IF COALESCE(pg_catalog.obj_description(_fn, 'pg_proc'), '') NOT LIKE '%Errors:%' THEN
        RAISE EXCEPTION 'verify function_maint_check_invariants: COMMENT ON FUNCTION lacks its Errors: list';
    END IF;
    IF NOT has_function_privilege('zkeb_maintainer', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_maint_check_invariants: zkeb_maintainer cannot execute it';
    END IF;
    IF has_function_privilege('zkeb_app', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_maint_check_invariants: zkeb_app can execute it';
    END IF;
    IF has_function_privilege('zkeb_auditor', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_maint_check_invariants: zkeb_auditor can execute it';
    END IF;
END
$$;

ROLLBACK;
