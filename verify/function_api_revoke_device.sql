-- Verify zkeb:function_api_revoke_device on pg
BEGIN;

DO $$
DECLARE
    -- Raises (undefined function) when the function is missing.
    _fn regprocedure := 'zkeb_api.revoke_device(bytea, uuid)'::regprocedure;
    _p record;
BEGIN
    SELECT p.proowner, p.prosecdef, p.proconfig, p.proargnames, l.lanname INTO _p
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
     WHERE p.oid = _fn;
    IF _p.proowner <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: not owned by zkeb_owner';
    END IF;
    IF NOT _p.prosecdef THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: not SECURITY DEFINER';
    END IF;
    IF _p.lanname <> 'plpgsql' THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: not LANGUAGE plpgsql';
    END IF;
    IF NOT ('search_path=pg_catalog, pg_temp' = ANY (COALESCE(_p.proconfig, '{}'::text[]))) THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    IF _p.proargnames IS DISTINCT FROM ARRAY['session_token', 'device_id']::text[] THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: arguments and result columns are %, expected %',
            _p.proargnames, ARRAY['session_token', 'device_id']::text[];
    END IF;
    IF pg_catalog.has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: PUBLIC can execute it';
    END IF;
    IF NOT pg_catalog.has_function_privilege('zkeb_app', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: zkeb_app cannot execute it';
    END IF;
    IF pg_catalog.has_function_privilege('zkeb_maintainer', _fn, 'EXECUTE')
       OR pg_catalog.has_function_privilege('zkeb_auditor', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: a role other than zkeb_app can execute it';
    END IF;
    IF pg_catalog.obj_description(_fn, 'pg_proc') !~ 'Errors: ZK[0-9]{3}' THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: COMMENT ON FUNCTION lacks its Errors: codes';
    END IF;
END
$$;

-- Behaviour (rolled back with the script): revoking the device the caller's
-- own session is bound to ends that session for every later statement of the
-- same transaction (the session cache of begin_session is cleared); the
-- account's other sessions go on.
DO $$
DECLARE
    _h bytea := pg_catalog.sha256(pg_catalog.convert_to('verify-revoke-' || pg_catalog.gen_random_uuid(), 'UTF8'));
    _key bytea := pg_catalog.sha256('verify-revoke-key'::bytea);
    _uid uuid;
    _t1 bytea;
    _t2 bytea;
    _dev uuid;
BEGIN
    SELECT r.user_id INTO _uid FROM zkeb_api.register_user(_h, _key, _key, '{}'::jsonb) AS r;
    SELECT l.session_token INTO _t1 FROM zkeb_api.login(_h, _key) AS l;
    SELECT d.device_id INTO _dev
      FROM zkeb_api.register_device(_t1, pg_catalog.sha256('verify-device'::bytea),
                                    pg_catalog.sha256('verify-public-key'::bytea), 'ed25519') AS d;
    SELECT l.session_token INTO _t2 FROM zkeb_api.login(_h, _key, _dev) AS l;
    IF _t2 IS NULL THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: could not log in with the test device';
    END IF;
    PERFORM zkeb_api.revoke_device(_t2, _dev);
    IF pg_catalog.current_setting('zkeb.session_checked') <> ''
       OR zkeb_private.current_user_id() IS NOT NULL THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: the revoked device''s session still resolves';
    END IF;
    BEGIN
        PERFORM zkeb_private.begin_session(_t2);
        RAISE EXCEPTION 'verify function_api_revoke_device: a revoked device''s token was accepted in the same transaction';
    EXCEPTION WHEN SQLSTATE 'ZK401' THEN NULL;
    END;
    IF zkeb_private.begin_session(_t1) IS DISTINCT FROM _uid THEN
        RAISE EXCEPTION 'verify function_api_revoke_device: a session not bound to the device ended';
    END IF;
END
$$;

ROLLBACK;
