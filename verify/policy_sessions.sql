-- Verify zkeb:policy_sessions on pg
BEGIN;

DO $$
DECLARE
    _missing text[];
BEGIN
    SELECT array_agg(n) INTO _missing
      FROM unnest(ARRAY['sessions_select_claimed', 'sessions_select_maint', 'sessions_insert_lookup', 'sessions_update_own', 'sessions_delete_own', 'sessions_delete_maint']) AS n
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                        WHERE p.polrelid = 'zkeb.sessions'::regclass AND p.polname = n
                          AND p.polroles = ARRAY['zkeb_owner'::regrole::oid]);
    IF _missing IS NOT NULL THEN
        RAISE EXCEPTION 'verify policy_sessions: policies missing or not TO zkeb_owner: %', _missing;
    END IF;
END
$$;

ROLLBACK;
