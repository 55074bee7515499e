-- Verify zkeb:privileges_database on pg
BEGIN;

DO $$
BEGIN
    IF has_database_privilege('zkeb_app', current_database(), 'TEMPORARY') THEN
        RAISE EXCEPTION 'verify privileges_database: zkeb_app has TEMPORARY on the database';
    END IF;
    IF has_database_privilege('zkeb_app', current_database(), 'CREATE') THEN
        RAISE EXCEPTION 'verify privileges_database: zkeb_app has CREATE on the database';
    END IF;
END
$$;

ROLLBACK;
