-- Verify zkeb:policy_audit_logs on pg
BEGIN;

DO $$
BEGIN
    IF (SELECT count(*) FROM pg_catalog.pg_policy p
         WHERE p.polrelid = 'zkeb.audit_logs'::regclass
           AND p.polname IN ('audit_logs_select_own', 'audit_logs_select_audit', 'audit_logs_select_maint',
                             'audit_logs_insert_own', 'audit_logs_insert_maint', 'audit_logs_delete_maint')
           AND p.polroles = ARRAY['zkeb_owner'::regrole::oid]) <> 6 THEN
        RAISE EXCEPTION 'verify policy_audit_logs: a policy is missing or not TO zkeb_owner';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                WHERE p.polrelid = 'zkeb.audit_logs'::regclass AND p.polcmd IN ('w', '*')) THEN
        RAISE EXCEPTION 'verify policy_audit_logs: audit events must never be updatable';
    END IF;
END
$$;

ROLLBACK;
