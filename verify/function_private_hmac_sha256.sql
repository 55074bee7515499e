-- Verify zkeb:function_private_hmac_sha256 on pg
BEGIN;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_private.hmac_sha256(bytea, bytea)'::regprocedure;
BEGIN
    IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = _fn) <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_private_hmac_sha256: not owned by zkeb_owner';
    END IF;
    IF has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_hmac_sha256: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                    WHERE oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)) THEN
        RAISE EXCEPTION 'verify function_private_hmac_sha256: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    IF zkeb_private.hmac_sha256('key'::bytea, 'The quick brown fox jumps over the lazy dog'::bytea)
       <> '\xf7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8'::bytea THEN
        RAISE EXCEPTION 'verify function_private_hmac_sha256: wrong result for the RFC test vector';
    END IF;
    -- RFC 4231 test case 6: a key longer than the block is hashed first.
    IF zkeb_private.hmac_sha256(pg_catalog.decode(pg_catalog.repeat('aa', 131), 'hex'),
                                'Test Using Larger Than Block-Size Key - Hash Key First'::bytea)
       <> '\x60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'::bytea THEN
        RAISE EXCEPTION 'verify function_private_hmac_sha256: wrong result for RFC 4231 test case 6';
    END IF;
END
$$;

ROLLBACK;
