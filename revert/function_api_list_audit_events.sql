-- Revert zkeb:function_api_list_audit_events from pg
BEGIN;

DROP FUNCTION zkeb_api.list_audit_events(bytea, integer, bigint);

COMMIT;
