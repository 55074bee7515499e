-- Verify zkeb:function_api_prelogin on pg
BEGIN;

DO $$
DECLARE
    -- Raises (undefined function) when the function is missing.
    _fn regprocedure := 'zkeb_api.prelogin(bytea)'::regprocedure;
    _p record;
BEGIN
    SELECT p.proowner, p.prosecdef, p.proconfig, p.proargnames, l.lanname INTO _p
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
     WHERE p.oid = _fn;
    IF _p.proowner <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_api_prelogin: not owned by zkeb_owner';
    END IF;
    IF NOT _p.prosecdef THEN
        RAISE EXCEPTION 'verify function_api_prelogin: not SECURITY DEFINER';
    END IF;
    IF _p.lanname <> 'plpgsql' THEN
        RAISE EXCEPTION 'verify function_api_prelogin: not LANGUAGE plpgsql';
    END IF;
    IF NOT ('search_path=pg_catalog, pg_temp' = ANY (COALESCE(_p.proconfig, '{}'::text[]))) THEN
        RAISE EXCEPTION 'verify function_api_prelogin: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    IF _p.proargnames IS DISTINCT FROM ARRAY['username_hash', 'auth_salt', 'kdf_params']::text[] THEN
        RAISE EXCEPTION 'verify function_api_prelogin: arguments and result columns are %, expected %',
            _p.proargnames, ARRAY['username_hash', 'auth_salt', 'kdf_params']::text[];
    END IF;
    IF pg_catalog.has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_prelogin: PUBLIC can execute it';
    END IF;
    IF NOT pg_catalog.has_function_privilege('zkeb_app', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_prelogin: zkeb_app cannot execute it';
    END IF;
    IF pg_catalog.has_function_privilege('zkeb_maintainer', _fn, 'EXECUTE')
       OR pg_catalog.has_function_privilege('zkeb_auditor', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_prelogin: a role other than zkeb_app can execute it';
    END IF;
    IF pg_catalog.obj_description(_fn, 'pg_proc') !~ 'Errors: ZK[0-9]{3}' THEN
        RAISE EXCEPTION 'verify function_api_prelogin: COMMENT ON FUNCTION lacks its Errors: codes';
    END IF;
END
$$;

ROLLBACK;
