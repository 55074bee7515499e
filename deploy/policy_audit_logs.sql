-- Deploy zkeb:policy_audit_logs to pg
-- requires: table_audit_logs
-- requires: function_private_audit_context_hashes
-- requires: function_private_maintenance_active
-- requires: function_private_audit_reader_active
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE POLICY audit_logs_select_own ON zkeb.audit_logs
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING (user_hash = ANY ((SELECT zkeb_private.audit_context_hashes())::bytea[]));
COMMENT ON POLICY audit_logs_select_own ON zkeb.audit_logs IS
    'A context reads the chains it may write: its session user''s, its looked-up user''s, the system chain under maintenance.';

CREATE POLICY audit_logs_select_audit ON zkeb.audit_logs
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING ((SELECT zkeb_private.audit_reader_active()));
COMMENT ON POLICY audit_logs_select_audit ON zkeb.audit_logs IS
    'Auditors and maintainers read every chain to verify and export it.';

CREATE POLICY audit_logs_select_maint ON zkeb.audit_logs
    AS PERMISSIVE FOR SELECT TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY audit_logs_select_maint ON zkeb.audit_logs IS
    'Maintenance reads every chain for retention and the invariant checks.';

CREATE POLICY audit_logs_insert_own ON zkeb.audit_logs
    AS PERMISSIVE FOR INSERT TO zkeb_owner
    WITH CHECK (user_hash = ANY ((SELECT zkeb_private.audit_context_hashes())::bytea[]));
COMMENT ON POLICY audit_logs_insert_own ON zkeb.audit_logs IS
    'Events are appended only to a chain the current context may write.';

CREATE POLICY audit_logs_insert_maint ON zkeb.audit_logs
    AS PERMISSIVE FOR INSERT TO zkeb_owner
    WITH CHECK ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY audit_logs_insert_maint ON zkeb.audit_logs IS
    'Maintenance appends to any chain: set_quota writes quota_set on the user''s chain, retention writes the audit_retention_anchor that replaces a purged prefix.';

CREATE POLICY audit_logs_delete_maint ON zkeb.audit_logs
    AS PERMISSIVE FOR DELETE TO zkeb_owner
    USING ((SELECT zkeb_private.maintenance_active()));
COMMENT ON POLICY audit_logs_delete_maint ON zkeb.audit_logs IS
    'Only retention (purge_audit_logs, in the maintenance context) removes events; the append-only trigger also insists on its zkeb.audit_purge flag.';

COMMIT;
