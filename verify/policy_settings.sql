-- Verify zkeb:policy_settings on pg
BEGIN;

DO $$
DECLARE
    _missing text[];
BEGIN
    SELECT array_agg(n) INTO _missing
      FROM unnest(ARRAY['settings_select_owner']) AS n
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy p
                        WHERE p.polrelid = 'zkeb_private.settings'::regclass AND p.polname = n
                          AND p.polroles = ARRAY['zkeb_owner'::regrole::oid]);
    IF _missing IS NOT NULL THEN
        RAISE EXCEPTION 'verify policy_settings: policies missing or not TO zkeb_owner: %', _missing;
    END IF;
END
$$;

ROLLBACK;
