-- Verify zkeb:function_api_delete_account on pg
BEGIN;

DO $$
DECLARE
    -- Raises (undefined function) when the function is missing.
    _fn regprocedure := 'zkeb_api.delete_account(bytea)'::regprocedure;
    _p record;
BEGIN
    SELECT p.proowner, p.prosecdef, p.proconfig, p.proargnames, l.lanname INTO _p
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
     WHERE p.oid = _fn;
    IF _p.proowner <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_api_delete_account: not owned by zkeb_owner';
    END IF;
    IF NOT _p.prosecdef THEN
        RAISE EXCEPTION 'verify function_api_delete_account: not SECURITY DEFINER';
    END IF;
    IF _p.lanname <> 'plpgsql' THEN
        RAISE EXCEPTION 'verify function_api_delete_account: not LANGUAGE plpgsql';
    END IF;
    IF NOT ('search_path=pg_catalog, pg_temp' = ANY (COALESCE(_p.proconfig, '{}'::text[]))) THEN
        RAISE EXCEPTION 'verify function_api_delete_account: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    IF _p.proargnames IS DISTINCT FROM ARRAY['session_token', 'erasure_receipt']::text[] THEN
        RAISE EXCEPTION 'verify function_api_delete_account: arguments and result columns are %, expected %',
            _p.proargnames, ARRAY['session_token', 'erasure_receipt']::text[];
    END IF;
    IF pg_catalog.has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_delete_account: PUBLIC can execute it';
    END IF;
    IF NOT pg_catalog.has_function_privilege('zkeb_app', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_delete_account: zkeb_app cannot execute it';
    END IF;
    IF pg_catalog.has_function_privilege('zkeb_maintainer', _fn, 'EXECUTE')
       OR pg_catalog.has_function_privilege('zkeb_auditor', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_delete_account: a role other than zkeb_app can execute it';
    END IF;
    IF pg_catalog.obj_description(_fn, 'pg_proc') !~ 'Errors: ZK[0-9]{3}' THEN
        RAISE EXCEPTION 'verify function_api_delete_account: COMMENT ON FUNCTION lacks its Errors: codes';
    END IF;
END
$$;

-- Behaviour (rolled back with the script): after the erasure no statement of
-- the same transaction finds the session (the session cache of begin_session
-- is cleared).
DO $$
DECLARE
    _h bytea := pg_catalog.sha256(pg_catalog.convert_to('verify-delete-' || pg_catalog.gen_random_uuid(), 'UTF8'));
    _key bytea := pg_catalog.sha256('verify-delete-key'::bytea);
    _uid uuid;
    _t bytea;
    _receipt jsonb;
BEGIN
    SELECT r.user_id INTO _uid FROM zkeb_api.register_user(_h, _key, _key, '{}'::jsonb) AS r;
    SELECT l.session_token INTO _t FROM zkeb_api.login(_h, _key) AS l;
    SELECT d.erasure_receipt INTO _receipt FROM zkeb_api.delete_account(_t) AS d;
    IF _receipt->>'user_hash' IS DISTINCT FROM pg_catalog.encode(zkeb_private.audit_user_hash(_uid), 'hex') THEN
        RAISE EXCEPTION 'verify function_api_delete_account: the receipt names another chain';
    END IF;
    IF pg_catalog.current_setting('zkeb.session_checked') <> ''
       OR zkeb_private.current_user_id() IS NOT NULL THEN
        RAISE EXCEPTION 'verify function_api_delete_account: the erased account''s session still resolves';
    END IF;
    BEGIN
        PERFORM zkeb_private.begin_session(_t);
        RAISE EXCEPTION 'verify function_api_delete_account: the erased account''s token was accepted in the same transaction';
    EXCEPTION WHEN SQLSTATE 'ZK401' THEN NULL;
    END;
END
$$;

ROLLBACK;
