-- Verify zkeb:function_api_logout on pg
BEGIN;

DO $$
DECLARE
    -- Raises (undefined function) when the function is missing.
    _fn regprocedure := 'zkeb_api.logout(bytea)'::regprocedure;
    _p record;
BEGIN
    SELECT p.proowner, p.prosecdef, p.proconfig, p.proargnames, l.lanname INTO _p
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
     WHERE p.oid = _fn;
    IF _p.proowner <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_api_logout: not owned by zkeb_owner';
    END IF;
    IF NOT _p.prosecdef THEN
        RAISE EXCEPTION 'verify function_api_logout: not SECURITY DEFINER';
    END IF;
    IF _p.lanname <> 'plpgsql' THEN
        RAISE EXCEPTION 'verify function_api_logout: not LANGUAGE plpgsql';
    END IF;
    IF NOT ('search_path=pg_catalog, pg_temp' = ANY (COALESCE(_p.proconfig, '{}'::text[]))) THEN
        RAISE EXCEPTION 'verify function_api_logout: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    IF _p.proargnames IS DISTINCT FROM ARRAY['session_token']::text[] THEN
        RAISE EXCEPTION 'verify function_api_logout: arguments and result columns are %, expected %',
            _p.proargnames, ARRAY['session_token']::text[];
    END IF;
    IF pg_catalog.has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_logout: PUBLIC can execute it';
    END IF;
    IF NOT pg_catalog.has_function_privilege('zkeb_app', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_logout: zkeb_app cannot execute it';
    END IF;
    IF pg_catalog.has_function_privilege('zkeb_maintainer', _fn, 'EXECUTE')
       OR pg_catalog.has_function_privilege('zkeb_auditor', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_api_logout: a role other than zkeb_app can execute it';
    END IF;
    IF pg_catalog.obj_description(_fn, 'pg_proc') !~ 'Errors: ZK[0-9]{3}' THEN
        RAISE EXCEPTION 'verify function_api_logout: COMMENT ON FUNCTION lacks its Errors: codes';
    END IF;
END
$$;

-- Behaviour (rolled back with the script): the session cache of
-- begin_session / current_user_id. A cache set by hand before a call gains
-- nothing, and logout ends the session for every later statement of the
-- same transaction.
DO $$
DECLARE
    _ha bytea := pg_catalog.sha256(pg_catalog.convert_to('verify-logout-a-' || pg_catalog.gen_random_uuid(), 'UTF8'));
    _hb bytea := pg_catalog.sha256(pg_catalog.convert_to('verify-logout-b-' || pg_catalog.gen_random_uuid(), 'UTF8'));
    _key bytea := pg_catalog.sha256('verify-logout-key'::bytea);
    _a uuid;
    _b uuid;
    _ta bytea;
    _tb bytea;
    _forged bytea;
    _b_events bigint;
BEGIN
    SELECT r.user_id INTO _a FROM zkeb_api.register_user(_ha, _key, _key, '{}'::jsonb) AS r;
    SELECT r.user_id INTO _b FROM zkeb_api.register_user(_hb, _key, _key, '{}'::jsonb) AS r;
    SELECT l.session_token INTO _ta FROM zkeb_api.login(_ha, _key) AS l;
    SELECT l.session_token INTO _tb FROM zkeb_api.login(_hb, _key) AS l;
    IF _ta IS NULL OR _tb IS NULL THEN
        RAISE EXCEPTION 'verify function_api_logout: could not log in the test accounts';
    END IF;
    SELECT pg_catalog.count(*) INTO _b_events FROM zkeb.audit_logs AS l
     WHERE l.user_hash = zkeb_private.audit_user_hash(_b);
    -- Hand-set: a forged token claiming B, "checked", with B's id and audit hash.
    _forged := pg_catalog.uuid_send(_b) || pg_catalog.sha256('forged'::bytea);
    PERFORM pg_catalog.set_config('zkeb.session_token', pg_catalog.encode(_forged, 'hex'), true),
            pg_catalog.set_config('zkeb.session_checked', pg_catalog.encode(_forged, 'hex'), true),
            pg_catalog.set_config('zkeb.session_user_id', _b::text, true),
            pg_catalog.set_config('zkeb.session_audit_hash',
                pg_catalog.encode(zkeb_private.audit_user_hash(_b), 'hex'), true);
    BEGIN
        PERFORM zkeb_api.logout(_forged);
        RAISE EXCEPTION 'verify function_api_logout: a forged token with a hand-set session cache was accepted';
    EXCEPTION WHEN SQLSTATE 'ZK401' THEN NULL;
    END;
    BEGIN
        PERFORM zkeb_api.logout(NULL);
        RAISE EXCEPTION 'verify function_api_logout: a NULL token with a hand-set session cache was accepted';
    EXCEPTION WHEN SQLSTATE 'ZK401' THEN NULL;
    END;
    -- A's own token with B's cache still in place: the call is A's.
    PERFORM pg_catalog.set_config('zkeb.session_checked', pg_catalog.encode(_ta, 'hex'), true);
    IF zkeb_private.begin_session(_ta) IS DISTINCT FROM _a
       OR zkeb_private.current_user_id() IS DISTINCT FROM _a
       OR pg_catalog.current_setting('zkeb.session_user_id') <> _a::text
       OR pg_catalog.current_setting('zkeb.session_audit_hash') <> '' THEN
        RAISE EXCEPTION 'verify function_api_logout: begin_session kept a hand-set session cache';
    END IF;
    -- ... and so does a whole call: A's logout event goes to A's chain.
    PERFORM pg_catalog.set_config('zkeb.session_audit_hash',
                pg_catalog.encode(zkeb_private.audit_user_hash(_b), 'hex'), true);
    IF EXISTS (SELECT 1 FROM zkeb.sessions AS s WHERE s.user_id = _b AND s.revoked_at IS NOT NULL) THEN
        RAISE EXCEPTION 'verify function_api_logout: B''s session was revoked through a forged token';
    END IF;
    -- Logout: the cache is gone and the same token is refused at once.
    PERFORM zkeb_api.logout(_ta);
    IF (SELECT pg_catalog.count(*) FROM zkeb.audit_logs AS l
         WHERE l.user_hash = zkeb_private.audit_user_hash(_b)) <> _b_events
       OR NOT EXISTS (SELECT 1 FROM zkeb.audit_logs AS l JOIN zkeb.users AS u
                          ON u.audit_head = l.row_hash AND u.audit_event_id = l.event_id
                       WHERE u.user_id = _a AND l.action = 'logout'
                         AND l.user_hash = zkeb_private.audit_user_hash(_a)) THEN
        RAISE EXCEPTION 'verify function_api_logout: the logout event is not at the head of A''s own chain';
    END IF;
    IF pg_catalog.current_setting('zkeb.session_checked') <> ''
       OR zkeb_private.current_user_id() IS NOT NULL THEN
        RAISE EXCEPTION 'verify function_api_logout: the session still resolves after logout';
    END IF;
    BEGIN
        PERFORM zkeb_private.begin_session(_ta);
        RAISE EXCEPTION 'verify function_api_logout: a logged-out token was accepted in the same transaction';
    EXCEPTION WHEN SQLSTATE 'ZK401' THEN NULL;
    END;
    IF zkeb_private.begin_session(_tb) IS DISTINCT FROM _b THEN
        RAISE EXCEPTION 'verify function_api_logout: logging A out ended B''s session';
    END IF;
END
$$;

ROLLBACK;
