-- Deploy zkeb:function_api_list_devices to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: policy_devices
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.list_devices(session_token bytea)
RETURNS TABLE (
    device_id uuid,
    device_id_hash bytea,
    key_algorithm text,
    public_key bytea,
    created_at timestamp with time zone,
    revoked_at timestamp with time zone)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(list_devices.session_token);
    RETURN QUERY
    SELECT d.device_id, d.device_id_hash, d.key_algorithm, d.public_key, d.created_at, d.revoked_at
      FROM zkeb.devices AS d
     WHERE d.user_id = _uid
     ORDER BY d.created_at, d.device_id;
END
$$;

COMMENT ON FUNCTION zkeb_api.list_devices(bytea) IS
    'List the caller''s devices, revoked ones included, oldest first. Errors: ZK401 no valid session; ZK403 account suspended.';
REVOKE ALL ON FUNCTION zkeb_api.list_devices(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.list_devices(bytea) TO zkeb_app;

COMMIT;
