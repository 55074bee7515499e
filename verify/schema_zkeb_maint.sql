-- Verify zkeb:schema_zkeb_maint on pg
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace
                    WHERE nspname = 'zkeb_maint' AND nspowner = 'zkeb_owner'::regrole) THEN
        RAISE EXCEPTION 'verify schema_zkeb_maint: schema missing or not owned by zkeb_owner';
    END IF;
    IF has_schema_privilege('public', 'zkeb_maint', 'CREATE') OR has_schema_privilege('zkeb_app', 'zkeb_maint', 'CREATE') THEN
        RAISE EXCEPTION 'verify schema_zkeb_maint: PUBLIC or zkeb_app may CREATE in zkeb_maint';
    END IF;
END
$$;

ROLLBACK;
