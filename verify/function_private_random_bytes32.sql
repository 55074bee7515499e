-- Verify zkeb:function_private_random_bytes32 on pg
BEGIN;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_private.random_bytes32()'::regprocedure;
BEGIN
    IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = _fn) <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_private_random_bytes32: not owned by zkeb_owner';
    END IF;
    IF has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_random_bytes32: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                    WHERE oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)) THEN
        RAISE EXCEPTION 'verify function_private_random_bytes32: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    IF octet_length(zkeb_private.random_bytes32()) <> 32
       OR zkeb_private.random_bytes32() = zkeb_private.random_bytes32() THEN
        RAISE EXCEPTION 'verify function_private_random_bytes32: not 32 fresh bytes';
    END IF;
END
$$;

ROLLBACK;
