-- Verify zkeb:schema_zkeb_private on pg
BEGIN;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace
                    WHERE nspname = 'zkeb_private' AND nspowner = 'zkeb_owner'::regrole) THEN
        RAISE EXCEPTION 'verify schema_zkeb_private: schema missing or not owned by zkeb_owner';
    END IF;
    IF has_schema_privilege('public', 'zkeb_private', 'CREATE') OR has_schema_privilege('zkeb_app', 'zkeb_private', 'CREATE') THEN
        RAISE EXCEPTION 'verify schema_zkeb_private: PUBLIC or zkeb_app may CREATE in zkeb_private';
    END IF;
END
$$;

ROLLBACK;
