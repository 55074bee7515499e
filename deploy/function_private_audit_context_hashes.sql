-- Deploy zkeb:function_private_audit_context_hashes to pg
-- requires: function_private_audit_user_hash
-- requires: function_private_current_user_id
-- requires: function_private_lookup_user_id
-- requires: function_private_maintenance_active
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- The audit chains the current context may write to or read: the session's
-- own, the looked-up account's, and the system chain in maintenance.
CREATE FUNCTION zkeb_private.audit_context_hashes()
RETURNS bytea[]
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.array_remove(ARRAY[
        CASE WHEN zkeb_private.current_user_id() IS NOT NULL
             THEN zkeb_private.audit_user_hash(zkeb_private.current_user_id()) END,
        CASE WHEN zkeb_private.lookup_user_id() IS NOT NULL
             THEN zkeb_private.audit_user_hash(zkeb_private.lookup_user_id()) END,
        CASE WHEN zkeb_private.maintenance_active() THEN zkeb_private.audit_user_hash(NULL) END
    ], NULL)
$$;

COMMENT ON FUNCTION zkeb_private.audit_context_hashes() IS
    'Audit chain hashes the current transaction context may write to: its session user''s, its looked-up user''s, and the system chain under maintenance.';
REVOKE ALL ON FUNCTION zkeb_private.audit_context_hashes() FROM PUBLIC;

COMMIT;
