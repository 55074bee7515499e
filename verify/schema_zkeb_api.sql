-- Verify zkeb:schema_zkeb_api on pg
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace
                    WHERE nspname = 'zkeb_api' AND nspowner = 'zkeb_owner'::regrole) THEN
        RAISE EXCEPTION 'verify schema_zkeb_api: schema missing or not owned by zkeb_owner';
    END IF;
    IF has_schema_privilege('public', 'zkeb_api', 'CREATE') OR has_schema_privilege('zkeb_app', 'zkeb_api', 'CREATE') THEN
        RAISE EXCEPTION 'verify schema_zkeb_api: PUBLIC or zkeb_app may CREATE in zkeb_api';
    END IF;
END
$$;

ROLLBACK;
