-- Deploy zkeb:function_maint_set_quota to pg
-- requires: schema_zkeb_maint
-- requires: function_private_begin_maintenance
-- requires: function_private_audit
-- requires: policy_users
-- requires: policy_audit_logs
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_maint.set_quota(user_id uuid, storage_quota_bytes bigint)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _old bigint;
    _used bigint;
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    IF set_quota.storage_quota_bytes IS NULL OR set_quota.storage_quota_bytes < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'storage_quota_bytes must be a non-negative number of bytes';
    END IF;
    -- Locks the account row, so usage cannot grow between the check and the
    -- change (create_backup charges under the same lock).
    SELECT u.storage_quota_bytes, u.storage_used_bytes INTO _old, _used
      FROM zkeb.users AS u
     WHERE u.user_id = set_quota.user_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such account';
    END IF;
    IF set_quota.storage_quota_bytes < _used THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK409', MESSAGE = 'the quota would be below current usage',
            DETAIL = pg_catalog.format('storage_used_bytes=%s', _used);
    END IF;
    UPDATE zkeb.users AS u
       SET storage_quota_bytes = set_quota.storage_quota_bytes
     WHERE u.user_id = set_quota.user_id;
    PERFORM zkeb_private.audit(set_quota.user_id, 'quota_set', true,
        pg_catalog.jsonb_build_object('storage_quota_bytes', set_quota.storage_quota_bytes,
                                      'previous_quota_bytes', _old));
END
$$;

COMMENT ON FUNCTION zkeb_maint.set_quota(uuid, bigint) IS
    'Set an account''s storage quota (not below its current usage) and log quota_set on that account''s audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK404 no such account; ZK409 below current usage; ZK422 negative or NULL quota.';
REVOKE ALL ON FUNCTION zkeb_maint.set_quota(uuid, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_maint.set_quota(uuid, bigint) TO zkeb_maintainer;

COMMIT;
