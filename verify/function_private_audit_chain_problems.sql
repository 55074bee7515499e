-- Verify zkeb:function_private_audit_chain_problems on pg
BEGIN;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_private.audit_chain_problems(jsonb, boolean)'::regprocedure;
BEGIN
    IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = _fn) <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_private_audit_chain_problems: not owned by zkeb_owner';
    END IF;
    IF has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_audit_chain_problems: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                    WHERE oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)) THEN
        RAISE EXCEPTION 'verify function_private_audit_chain_problems: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    IF has_function_privilege('zkeb_app', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_audit_chain_problems: zkeb_app can execute it';
    END IF;
    IF has_function_privilege('zkeb_auditor', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_audit_chain_problems: zkeb_auditor can execute it';
    END IF;
    IF has_function_privilege('zkeb_maintainer', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_audit_chain_problems: zkeb_maintainer can execute it';
    END IF;
END
$$;

ROLLBACK;
