-- Deploy zkeb:trigger_audit_logs_append_only to pg
-- requires: table_audit_logs
-- requires: function_private_maintenance_active
-- The audit log is append-only for everyone: no role has a privilege on it,
-- and these triggers refuse UPDATE, TRUNCATE and any DELETE that is not the
-- retention purge (purge_audit_logs sets zkeb.audit_purge in its maintenance
-- context). A superuser can still disable triggers: the hash chain and
-- exported checkpoints are what catch that.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_private.audit_logs_append_only()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND pg_catalog.current_setting('zkeb.audit_purge', true) IS NOT DISTINCT FROM 'on'
       AND zkeb_private.maintenance_active() THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'ZK403',
        MESSAGE = pg_catalog.format('the audit log is append-only (%s refused)', TG_OP);
END
$$;

COMMENT ON FUNCTION zkeb_private.audit_logs_append_only() IS
    'Trigger function that refuses UPDATE, TRUNCATE and DELETE on zkeb.audit_logs outside the retention purge. Errors: ZK403.';
REVOKE ALL ON FUNCTION zkeb_private.audit_logs_append_only() FROM PUBLIC;

CREATE TRIGGER audit_logs_append_only_row
    BEFORE UPDATE OR DELETE ON zkeb.audit_logs
    FOR EACH ROW EXECUTE FUNCTION zkeb_private.audit_logs_append_only();
CREATE TRIGGER audit_logs_append_only_truncate
    BEFORE TRUNCATE ON zkeb.audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION zkeb_private.audit_logs_append_only();

COMMIT;
