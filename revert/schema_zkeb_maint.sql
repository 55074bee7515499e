-- Revert zkeb:schema_zkeb_maint from pg
BEGIN;

DROP SCHEMA zkeb_maint;

COMMIT;
