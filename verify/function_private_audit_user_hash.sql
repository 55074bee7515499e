-- Verify zkeb:function_private_audit_user_hash on pg
BEGIN;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_private.audit_user_hash(uuid)'::regprocedure;
BEGIN
    IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = _fn) <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_private_audit_user_hash: not owned by zkeb_owner';
    END IF;
    IF has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_audit_user_hash: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                    WHERE oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)) THEN
        RAISE EXCEPTION 'verify function_private_audit_user_hash: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
    -- The stored pads give exactly HMAC-SHA256 under the pepper.
    IF EXISTS (SELECT 1 FROM zkeb_private.settings AS s
                WHERE zkeb_private.audit_user_hash('00112233-4455-6677-8899-aabbccddeeff'::uuid)
                      <> zkeb_private.hmac_sha256(s.audit_pepper,
                             pg_catalog.convert_to('zkeb-audit-user:', 'UTF8')
                             || '\x00112233445566778899aabbccddeeff'::bytea)
                   OR zkeb_private.audit_user_hash(NULL)
                      <> zkeb_private.hmac_sha256(s.audit_pepper,
                             pg_catalog.convert_to('zkeb-audit-system-chain', 'UTF8'))) THEN
        RAISE EXCEPTION 'verify function_private_audit_user_hash: not HMAC-SHA256 under the audit pepper';
    END IF;
END
$$;

ROLLBACK;
