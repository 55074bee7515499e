-- Deploy zkeb:function_api_create_backup to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit_append
-- requires: policy_audit_logs
-- requires: function_private_settings
-- requires: policy_settings
-- requires: policy_devices
-- requires: policy_encrypted_backups
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Idempotent on the client-chosen backup_id. The row is inserted first (ON
-- CONFLICT DO NOTHING waits for a racing attempt with the same id and then
-- leaves its row alone) and the quota is charged only when this call inserted,
-- so a retry never charges twice and never gets ZK413 because of its own first
-- attempt; a ZK413 rolls the insert back.
CREATE FUNCTION zkeb_api.create_backup(
    session_token bytea,
    backup_id uuid,
    device_id uuid,
    backup_name_hash bytea,
    ciphertext bytea,
    nonce bytea,
    auth_tag bytea,
    signature bytea,
    expires_at timestamp with time zone DEFAULT NULL)
RETURNS TABLE (
    created_at timestamp with time zone,
    storage_used_bytes bigint,
    replayed boolean)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _uid uuid;
    _size bigint;
    _max bigint;
    _alg text;
    _revoked timestamptz;
    _created timestamptz;
    _same boolean;
    _inserted boolean := false;
    _used bigint;
    _quota bigint;
    _prev_id bigint;
    _prev bytea;
    _hash bytea;
BEGIN
    _uid := zkeb_private.begin_session(create_backup.session_token);
    IF create_backup.backup_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'backup_id must not be NULL';
    END IF;
    IF create_backup.device_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'device_id must not be NULL';
    END IF;
    IF create_backup.backup_name_hash IS NULL OR pg_catalog.octet_length(create_backup.backup_name_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'backup_name_hash must be 32 bytes';
    END IF;
    IF create_backup.ciphertext IS NULL OR pg_catalog.octet_length(create_backup.ciphertext) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'ciphertext must not be empty';
    END IF;
    IF create_backup.nonce IS NULL OR pg_catalog.octet_length(create_backup.nonce) <> 12 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'nonce must be 12 bytes';
    END IF;
    IF create_backup.auth_tag IS NULL OR pg_catalog.octet_length(create_backup.auth_tag) <> 16 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'auth_tag must be 16 bytes';
    END IF;
    IF create_backup.signature IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'signature must not be NULL';
    END IF;
    IF create_backup.expires_at <= pg_catalog.now() THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'expires_at must be in the future';
    END IF;
    _size := pg_catalog.octet_length(create_backup.ciphertext);
    SELECT s.max_backup_bytes INTO _max FROM zkeb_private.settings AS s WHERE s.id;
    IF _size > _max THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK413', MESSAGE = 'backup is too large',
            DETAIL = pg_catalog.format('ciphertext is %s bytes, at most %s are accepted', _size, _max);
    END IF;

    -- A retry of a create that committed answers from the stored row,
    -- whatever happened to the device since.
    SELECT b.created_at, (b.device_id = create_backup.device_id
                AND b.backup_name_hash = create_backup.backup_name_hash
                AND b.nonce = create_backup.nonce
                AND b.auth_tag = create_backup.auth_tag
                AND b.signature = create_backup.signature
                AND b.expires_at IS NOT DISTINCT FROM create_backup.expires_at
                AND b.size_bytes = _size
                AND b.ciphertext = create_backup.ciphertext)
      INTO _created, _same
      FROM zkeb.encrypted_backups AS b
     WHERE b.user_id = _uid AND b.backup_id = create_backup.backup_id;
    IF NOT FOUND THEN
        -- FOR NO KEY UPDATE, not FOR SHARE: a concurrent revoke_device (or
        -- delete_account) waits for this create, or this create waits for the
        -- revocation and sees it; and a waiting revocation is queued ahead of
        -- later creates (new share lockers would overtake it and could starve
        -- it). Creates of one account already queue on the account row.
        SELECT d.key_algorithm, d.revoked_at INTO _alg, _revoked
          FROM zkeb.devices AS d
         WHERE d.user_id = _uid AND d.device_id = create_backup.device_id
           FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such device';
        END IF;
        IF _revoked IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK403', MESSAGE = 'the device is revoked';
        END IF;
        IF pg_catalog.octet_length(create_backup.signature)
           <> (CASE _alg WHEN 'ed25519' THEN 64 ELSE 512 END) THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'signature has the wrong length for the device key',
            DETAIL = pg_catalog.format('%s signatures are %s bytes', _alg, CASE _alg WHEN 'ed25519' THEN 64 ELSE 512 END);
        END IF;
        INSERT INTO zkeb.encrypted_backups AS b
               (user_id, backup_id, device_id, backup_name_hash, ciphertext, nonce, auth_tag,
                signature, key_algorithm, size_bytes, expires_at)
        VALUES (_uid, create_backup.backup_id, create_backup.device_id,
                create_backup.backup_name_hash, create_backup.ciphertext, create_backup.nonce,
                create_backup.auth_tag, create_backup.signature, _alg, _size,
                create_backup.expires_at)
        ON CONFLICT ON CONSTRAINT encrypted_backups_pkey DO NOTHING
        RETURNING b.created_at INTO _created;
        _inserted := _created IS NOT NULL;
        IF NOT _inserted THEN
            -- A racing attempt with the same id committed first.
            SELECT b.created_at, (b.device_id = create_backup.device_id
                AND b.backup_name_hash = create_backup.backup_name_hash
                AND b.nonce = create_backup.nonce
                AND b.auth_tag = create_backup.auth_tag
                AND b.signature = create_backup.signature
                AND b.expires_at IS NOT DISTINCT FROM create_backup.expires_at
                AND b.size_bytes = _size
                AND b.ciphertext = create_backup.ciphertext)
              INTO _created, _same
              FROM zkeb.encrypted_backups AS b
             WHERE b.user_id = _uid AND b.backup_id = create_backup.backup_id;
            IF NOT FOUND THEN
                RAISE EXCEPTION USING ERRCODE = 'ZK409', MESSAGE = 'a backup with this id was created and removed concurrently; retry';
            END IF;
        END IF;
    END IF;

    IF NOT _inserted THEN
        IF NOT _same THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK409', MESSAGE = 'a backup with this id already exists with other content',
            DETAIL = pg_catalog.format('backup_id %s', create_backup.backup_id);
        END IF;
        SELECT u.storage_used_bytes INTO _used FROM zkeb.users AS u WHERE u.user_id = _uid;
        created_at := _created;
        storage_used_bytes := _used;
        replayed := true;
        RETURN NEXT;
        RETURN;
    END IF;

    -- Lock the account row (quota and audit chain head), then charge the
    -- quota and move the head in one UPDATE, so the row is written once
    -- (zkeb_private.audit would write it a second time). The UPDATE still
    -- carries the quota condition (used + size <= quota, written so that it
    -- cannot overflow); under the lock it only confirms the check before it.
    SELECT u.storage_used_bytes, u.storage_quota_bytes, u.audit_event_id, u.audit_head
      INTO _used, _quota, _prev_id, _prev
      FROM zkeb.users AS u
     WHERE u.user_id = _uid
       FOR UPDATE;
    IF NOT FOUND OR _quota - _used < _size THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK413', MESSAGE = 'storage quota exceeded',
            DETAIL = pg_catalog.format('backup is %s bytes; %s of %s bytes are used', _size, _used, _quota);
    END IF;
    _hash := zkeb_private.audit_append(_uid, 'backup_create', true,
        pg_catalog.jsonb_build_object('backup_id', create_backup.backup_id, 'size_bytes', _size),
        _prev_id, _prev);
    UPDATE zkeb.users AS u
       SET storage_used_bytes = u.storage_used_bytes + _size,
           audit_event_id = COALESCE(_prev_id, 0) + 1,
           audit_head = _hash
     WHERE u.user_id = _uid
       AND u.storage_quota_bytes - u.storage_used_bytes >= _size
    RETURNING u.storage_used_bytes INTO _used;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK413', MESSAGE = 'storage quota exceeded',
            DETAIL = pg_catalog.format('backup is %s bytes; %s of %s bytes are used', _size, _used, _quota);
    END IF;
    created_at := _created;
    storage_used_bytes := _used;
    replayed := false;
    RETURN NEXT;
END
$$;

COMMENT ON FUNCTION zkeb_api.create_backup(bytea, uuid, uuid, bytea, bytea, bytea, bytea, bytea, timestamp with time zone) IS
    'Store a client-encrypted backup signed by an active device of the caller, charging its size against the quota in the same statement that checks it; a retry with the same backup_id and content answers replayed = true and charges nothing. Errors: ZK401 no valid session; ZK403 account suspended or the device is revoked; ZK404 no such device for this user; ZK409 the backup_id exists with other content; ZK413 quota exceeded or ciphertext above max_backup_bytes; ZK422 NULL id, wrong hash/nonce/tag/signature length, empty ciphertext or expires_at not in the future.';
REVOKE ALL ON FUNCTION zkeb_api.create_backup(bytea, uuid, uuid, bytea, bytea, bytea, bytea, bytea, timestamp with time zone) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.create_backup(bytea, uuid, uuid, bytea, bytea, bytea, bytea, bytea, timestamp with time zone) TO zkeb_app;

COMMIT;
