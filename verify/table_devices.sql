-- Verify zkeb:table_devices on pg
BEGIN;

SELECT user_id, device_id, device_id_hash, key_algorithm, public_key, sync_lamport, created_at, revoked_at
  FROM zkeb.devices WHERE false;

DO $$
BEGIN
    IF NOT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_catalog.pg_class
             WHERE oid = 'zkeb.devices'::regclass) THEN
        RAISE EXCEPTION 'verify table_devices: RLS not enabled and forced on zkeb.devices';
    END IF;
    IF has_table_privilege('zkeb_app', 'zkeb.devices', 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') THEN
        RAISE EXCEPTION 'verify table_devices: zkeb_app has a privilege on zkeb.devices';
    END IF;
END
$$;

ROLLBACK;
