-- Verify zkeb:function_private_audit_row_hash on pg
BEGIN;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_private.audit_row_hash(bytea, bytea, bigint, text, boolean, timestamp with time zone, jsonb)'::regprocedure;
BEGIN
    IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = _fn) <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_private_audit_row_hash: not owned by zkeb_owner';
    END IF;
    IF has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_audit_row_hash: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                    WHERE oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)) THEN
        RAISE EXCEPTION 'verify function_private_audit_row_hash: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
END
$$;

ROLLBACK;
