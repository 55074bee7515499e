-- Verify zkeb:policy_maint_row_locks on pg
BEGIN;

DO $$
BEGIN
    IF (SELECT count(*) FROM pg_catalog.pg_policy p
         WHERE (p.polrelid, p.polname) IN (('zkeb.encrypted_backups'::regclass, 'encrypted_backups_update_maint'),
                                           ('zkeb.sessions'::regclass, 'sessions_update_maint'))
           AND p.polcmd = 'w'
           AND p.polroles = ARRAY['zkeb_owner'::regrole::oid]) <> 2 THEN
        RAISE EXCEPTION 'verify policy_maint_row_locks: a policy is missing, not FOR UPDATE or not TO zkeb_owner';
    END IF;
END
$$;

ROLLBACK;
