-- Verify zkeb:policy_recovery_shares on pg
BEGIN;

DO $$
DECLARE
    _missing text[];
BEGIN
    SELECT array_agg(n) INTO _missing
      FROM unnest(ARRAY['recovery_shares_select_own', 'recovery_shares_insert_own', 'recovery_shares_delete_own']) AS n
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                        WHERE p.polrelid = 'zkeb.recovery_shares'::regclass AND p.polname = n
                          AND p.polroles = ARRAY['zkeb_owner'::regrole::oid]);
    IF _missing IS NOT NULL THEN
        RAISE EXCEPTION 'verify policy_recovery_shares: policies missing or not TO zkeb_owner: %', _missing;
    END IF;
END
$$;

ROLLBACK;
