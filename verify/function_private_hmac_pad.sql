-- Verify zkeb:function_private_hmac_pad on pg
BEGIN;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_private.hmac_pad(bytea, integer)'::regprocedure;
BEGIN
    IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = _fn) <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_private_hmac_pad: not owned by zkeb_owner';
    END IF;
    IF has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_hmac_pad: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                    WHERE oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)) THEN
        RAISE EXCEPTION 'verify function_private_hmac_pad: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    -- 'key' padded to 64 bytes, XOR 0x36 and XOR 0x5c.
    IF zkeb_private.hmac_pad('key'::bytea, 54)
       <> ('\x5d534f' || pg_catalog.repeat('36', 61))::bytea
       OR zkeb_private.hmac_pad('key'::bytea, 92)
       <> ('\x373925' || pg_catalog.repeat('5c', 61))::bytea THEN
        RAISE EXCEPTION 'verify function_private_hmac_pad: wrong pad of a short key';
    END IF;
END
$$;

ROLLBACK;
