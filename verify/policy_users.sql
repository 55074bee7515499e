-- Verify zkeb:policy_users on pg
BEGIN;

DO $$
DECLARE
    _missing text[];
BEGIN
    SELECT array_agg(n) INTO _missing
      FROM unnest(ARRAY['users_select_own', 'users_select_lookup', 'users_select_maint', 'users_insert_register', 'users_update_own', 'users_update_lookup', 'users_update_maint', 'users_delete_own']) AS n
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                        WHERE p.polrelid = 'zkeb.users'::regclass AND p.polname = n
                          AND p.polroles = ARRAY['zkeb_owner'::regrole::oid]);
    IF _missing IS NOT NULL THEN
        RAISE EXCEPTION 'verify policy_users: policies missing or not TO zkeb_owner: %', _missing;
    END IF;
END
$$;

ROLLBACK;
