-- Verify zkeb:policy_encrypted_backups on pg
BEGIN;

DO $$
DECLARE
    _missing text[];
BEGIN
    SELECT array_agg(n) INTO _missing
      FROM unnest(ARRAY['encrypted_backups_select_own', 'encrypted_backups_select_maint', 'encrypted_backups_insert_own', 'encrypted_backups_update_own', 'encrypted_backups_delete_own', 'encrypted_backups_delete_maint']) AS n
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                        WHERE p.polrelid = 'zkeb.encrypted_backups'::regclass AND p.polname = n
                          AND p.polroles = ARRAY['zkeb_owner'::regrole::oid]);
    IF _missing IS NOT NULL THEN
        RAISE EXCEPTION 'verify policy_encrypted_backups: policies missing or not TO zkeb_owner: %', _missing;
    END IF;
END
$$;

ROLLBACK;
