-- Verify zkeb:function_private_audit_append on pg
BEGIN;

DO $$
DECLARE
    _fn regprocedure := 'zkeb_private.audit_append(uuid, text, boolean, jsonb, bigint, bytea)'::regprocedure;
BEGIN
    IF (SELECT proowner FROM pg_catalog.pg_proc WHERE oid = _fn) <> 'zkeb_owner'::regrole THEN
        RAISE EXCEPTION 'verify function_private_audit_append: not owned by zkeb_owner';
    END IF;
    IF has_function_privilege('public', _fn, 'EXECUTE') THEN
        RAISE EXCEPTION 'verify function_private_audit_append: PUBLIC can execute it';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc
                    WHERE oid = _fn AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)) THEN
        RAISE EXCEPTION 'verify function_private_audit_append: search_path is not pinned to pg_catalog, pg_temp';
    END IF;
END
$$;

-- The inline encoding is audit_row_hash's (an event far past any real
-- position of the system chain, rolled back with the script).
DO $$
DECLARE
    _hash bytea := zkeb_private.audit_append(
        NULL, 'maint_cleanup_expired', true, '{"verify": "a|b", "n": 1}'::jsonb,
        9000000000000000000, pg_catalog.sha256('verify'::bytea));
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM zkeb.audit_logs AS l
         WHERE l.user_hash = zkeb_private.audit_user_hash(NULL)
           AND l.event_id = 9000000000000000001
           AND l.row_hash = _hash
           AND l.prev_hash = pg_catalog.sha256('verify'::bytea)
           AND l.row_hash = zkeb_private.audit_row_hash(l.prev_hash, l.user_hash, l.event_id,
                                                        l.action, l.success, l.created_at, l.metadata)) THEN
        RAISE EXCEPTION 'verify function_private_audit_append: the row hash is not audit_row_hash of the row';
    END IF;
END
$$;

ROLLBACK;
