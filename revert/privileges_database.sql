-- Revert zkeb:privileges_database from pg
BEGIN;

DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END
$$;

COMMIT;
