-- Verify zkeb:function_private_valid_vector_clock on pg
BEGIN;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_private.valid_vector_clock(jsonb)'::regprocedure;
BEGIN
    IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = _fn) <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_private_valid_vector_clock: not owned by zkeb_owner';
    END IF;
    IF has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_valid_vector_clock: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                    WHERE oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)) THEN
        RAISE EXCEPTION 'verify function_private_valid_vector_clock: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    IF NOT zkeb_private.valid_vector_clock('{"00000000-0000-4000-8000-000000000001": 3}')
       OR zkeb_private.valid_vector_clock('{"x": 1}')
       OR zkeb_private.valid_vector_clock('{"00000000-0000-4000-8000-000000000001": -1}')
       OR zkeb_private.valid_vector_clock('[]') THEN
        RAISE EXCEPTION 'verify function_private_valid_vector_clock: wrong answers';
    END IF;
END
$$;

ROLLBACK;
