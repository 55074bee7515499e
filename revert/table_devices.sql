-- Revert zkeb:table_devices from pg
BEGIN;

DROP TABLE zkeb.devices;

COMMIT;
