-- Verify zkeb:schema_zkeb on pg
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace
                    WHERE nspname = 'zkeb' AND nspowner = 'zkeb_owner'::regrole) THEN
        RAISE EXCEPTION 'verify schema_zkeb: schema missing or not owned by zkeb_owner';
    END IF;
    IF has_schema_privilege('public', 'zkeb', 'CREATE') OR has_schema_privilege('zkeb_app', 'zkeb', 'CREATE') THEN
        RAISE EXCEPTION 'verify schema_zkeb: PUBLIC or zkeb_app may CREATE in zkeb';
    END IF;
END
$$;

ROLLBACK;
