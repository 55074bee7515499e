-- Deploy zkeb:function_api_list_backups to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: policy_encrypted_backups
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Keyset pagination on (created_at DESC, backup_id DESC), the order of the
-- index encrypted_backups_list_idx; no OFFSET, no ciphertext.
CREATE FUNCTION zkeb_api.list_backups(
    session_token bytea,
    page_size integer DEFAULT 50,
    before_created_at timestamp with time zone DEFAULT NULL,
    before_id uuid DEFAULT NULL,
    only_name_hash bytea DEFAULT NULL,
    in_trash boolean DEFAULT false)
RETURNS TABLE (
    backup_id uuid,
    backup_name_hash bytea,
    device_id uuid,
    size_bytes bigint,
    created_at timestamp with time zone,
    expires_at timestamp with time zone,
    deleted_at timestamp with time zone)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
    _before_ts timestamptz;
    _before_id uuid;
BEGIN
    _uid := zkeb_private.begin_session(list_backups.session_token);
    IF list_backups.page_size IS NULL OR list_backups.page_size < 1 OR list_backups.page_size > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'page_size must be between 1 and 1000',
            DETAIL = pg_catalog.format('page_size is %s', list_backups.page_size);
    END IF;
    IF (list_backups.before_created_at IS NULL) <> (list_backups.before_id IS NULL) THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'before_created_at and before_id must be given together';
    END IF;
    IF list_backups.only_name_hash IS NOT NULL
       AND pg_catalog.octet_length(list_backups.only_name_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'only_name_hash must be 32 bytes';
    END IF;
    IF list_backups.in_trash IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'in_trash must not be NULL';
    END IF;
    -- The first page starts above every row.
    _before_ts := COALESCE(list_backups.before_created_at, 'infinity'::timestamptz);
    _before_id := COALESCE(list_backups.before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid);
    IF list_backups.only_name_hash IS NULL THEN
        RETURN QUERY
        SELECT b.backup_id, b.backup_name_hash, b.device_id, b.size_bytes, b.created_at, b.expires_at, b.deleted_at
          FROM zkeb.encrypted_backups AS b
         WHERE b.user_id = _uid
           AND (b.created_at, b.backup_id) < (_before_ts, _before_id)
           AND (b.deleted_at IS NOT NULL) = list_backups.in_trash
           AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now())
         ORDER BY b.created_at DESC, b.backup_id DESC
         LIMIT list_backups.page_size;
    ELSE
        RETURN QUERY
        SELECT b.backup_id, b.backup_name_hash, b.device_id, b.size_bytes, b.created_at, b.expires_at, b.deleted_at
          FROM zkeb.encrypted_backups AS b
         WHERE b.user_id = _uid
           AND b.backup_name_hash = list_backups.only_name_hash
           AND (b.created_at, b.backup_id) < (_before_ts, _before_id)
           AND (b.deleted_at IS NOT NULL) = list_backups.in_trash
           AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now())
         ORDER BY b.created_at DESC, b.backup_id DESC
         LIMIT list_backups.page_size;
    END IF;
END
$$;

COMMENT ON FUNCTION zkeb_api.list_backups(bytea, integer, timestamp with time zone, uuid, bytea, boolean) IS
    'List the caller''s live backups (or the trash with in_trash), newest first, one keyset page after (before_created_at, before_id), without ciphertext; expired backups are left out. Errors: ZK401 no valid session; ZK403 account suspended; ZK422 page_size not in 1..1000, only one of before_created_at and before_id, only_name_hash not 32 bytes or in_trash NULL.';
REVOKE ALL ON FUNCTION zkeb_api.list_backups(bytea, integer, timestamp with time zone, uuid, bytea, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.list_backups(bytea, integer, timestamp with time zone, uuid, bytea, boolean) TO zkeb_app;

COMMIT;
