-- Verify zkeb:table_sync_metadata on pg
BEGIN;

SELECT user_id, entity_hash, version_id, device_id, vector_clock, lamport, seq, is_sibling, payload, updated_at
  FROM zkeb.sync_metadata WHERE false;

DO $$
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb.sync_metadata'::regclass) THEN
        RAISE EXCEPTION 'verify table_sync_metadata: RLS not enabled and forced on zkeb.sync_metadata';
    END IF;
    IF has_table_privilege('zkeb_app', 'zkeb.sync_metadata', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') THEN
        RAISE EXCEPTION 'verify table_sync_metadata: zkeb_app has a privilege on zkeb.sync_metadata';
    END IF;
END
$$;

ROLLBACK;
