-- zkeb-db schema snapshot: normalised `pg_dump --schema-only` of a fresh deploy of
-- sqitch.plan, without the sqitch registry. Generated; do not edit.
-- Regenerate: zkeb-db schema-snapshot    Compare: zkeb-db schema-snapshot --check
-- server major version: 15

--
-- PostgreSQL database dump
--

--
-- Name: zkeb; Type: SCHEMA; Schema: -; Owner: zkeb_owner
--

CREATE SCHEMA zkeb;

ALTER SCHEMA zkeb OWNER TO zkeb_owner;

--
-- Name: SCHEMA zkeb; Type: COMMENT; Schema: -; Owner: zkeb_owner
--

COMMENT ON SCHEMA zkeb IS 'zkeb-db tables. Nobody but the owner touches them: no table privilege is granted to any role.';

--
-- Name: zkeb_api; Type: SCHEMA; Schema: -; Owner: zkeb_owner
--

CREATE SCHEMA zkeb_api;

ALTER SCHEMA zkeb_api OWNER TO zkeb_owner;

--
-- Name: SCHEMA zkeb_api; Type: COMMENT; Schema: -; Owner: zkeb_owner
--

COMMENT ON SCHEMA zkeb_api IS 'zkeb-db public API: SECURITY DEFINER functions executable by zkeb_app.';

--
-- Name: zkeb_maint; Type: SCHEMA; Schema: -; Owner: zkeb_owner
--

CREATE SCHEMA zkeb_maint;

ALTER SCHEMA zkeb_maint OWNER TO zkeb_owner;

--
-- Name: SCHEMA zkeb_maint; Type: COMMENT; Schema: -; Owner: zkeb_owner
--

COMMENT ON SCHEMA zkeb_maint IS 'zkeb-db maintenance: cleanup, retention, quota admin, audit chain checks; for zkeb_maintainer (and zkeb_auditor for the chain checks).';

--
-- Name: zkeb_private; Type: SCHEMA; Schema: -; Owner: zkeb_owner
--

CREATE SCHEMA zkeb_private;

ALTER SCHEMA zkeb_private OWNER TO zkeb_owner;

--
-- Name: SCHEMA zkeb_private; Type: COMMENT; Schema: -; Owner: zkeb_owner
--

COMMENT ON SCHEMA zkeb_private IS 'zkeb-db helpers (tenant context, hashing, audit writer). Called only by the owner''s functions.';

--
-- Name: create_backup(bytea, uuid, uuid, bytea, bytea, bytea, bytea, bytea, timestamp with time zone); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.create_backup(session_token bytea, backup_id uuid, device_id uuid, backup_name_hash bytea, ciphertext bytea, nonce bytea, auth_tag bytea, signature bytea, expires_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS TABLE(created_at timestamp with time zone, storage_used_bytes bigint, replayed boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

ALTER FUNCTION zkeb_api.create_backup(session_token bytea, backup_id uuid, device_id uuid, backup_name_hash bytea, ciphertext bytea, nonce bytea, auth_tag bytea, signature bytea, expires_at timestamp with time zone) OWNER TO zkeb_owner;

--
-- Name: FUNCTION create_backup(session_token bytea, backup_id uuid, device_id uuid, backup_name_hash bytea, ciphertext bytea, nonce bytea, auth_tag bytea, signature bytea, expires_at timestamp with time zone); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.create_backup(session_token bytea, backup_id uuid, device_id uuid, backup_name_hash bytea, ciphertext bytea, nonce bytea, auth_tag bytea, signature bytea, expires_at timestamp with time zone) IS 'Store a client-encrypted backup signed by an active device of the caller, charging its size against the quota in the same statement that checks it; a retry with the same backup_id and content answers replayed = true and charges nothing. Errors: ZK401 no valid session; ZK403 account suspended or the device is revoked; ZK404 no such device for this user; ZK409 the backup_id exists with other content; ZK413 quota exceeded or ciphertext above max_backup_bytes; ZK422 NULL id, wrong hash/nonce/tag/signature length, empty ciphertext or expires_at not in the future.';

--
-- Name: delete_account(bytea); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.delete_account(session_token bytea) RETURNS TABLE(erasure_receipt jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
    _counts jsonb;
    _erased jsonb;
    _event_id bigint;
    _head bytea;
BEGIN
    _uid := zkeb_private.begin_session(delete_account.session_token);
    -- Devices first, then the account row: the order create_backup and
    -- sync_push take them in, so a concurrent write finishes (and is erased)
    -- or sees no device.
    PERFORM 1 FROM zkeb.devices AS d WHERE d.user_id = _uid ORDER BY d.device_id FOR UPDATE;
    PERFORM 1 FROM zkeb.users AS u WHERE u.user_id = _uid FOR UPDATE;
    SELECT pg_catalog.jsonb_build_object(
               'users', 1,
               'devices', (SELECT pg_catalog.count(*) FROM zkeb.devices AS d WHERE d.user_id = _uid),
               'sessions', (SELECT pg_catalog.count(*) FROM zkeb.sessions AS s WHERE s.user_id = _uid),
               'encrypted_backups',
                   (SELECT pg_catalog.count(*) FROM zkeb.encrypted_backups AS b WHERE b.user_id = _uid),
               'recovery_shares',
                   (SELECT pg_catalog.count(*) FROM zkeb.recovery_shares AS r WHERE r.user_id = _uid),
               'sync_metadata',
                   (SELECT pg_catalog.count(*) FROM zkeb.sync_metadata AS m WHERE m.user_id = _uid))
      INTO _counts;
    -- The audit event comes first: after the erasure there is no session.
    PERFORM zkeb_private.audit(_uid, 'account_delete', true,
                               pg_catalog.jsonb_build_object('rows_erased', _counts));
    SELECT u.audit_event_id, u.audit_head INTO _event_id, _head
      FROM zkeb.users AS u
     WHERE u.user_id = _uid;
    WITH del_backups AS (
             DELETE FROM zkeb.encrypted_backups AS b WHERE b.user_id = _uid RETURNING 1),
         del_shares AS (
             DELETE FROM zkeb.recovery_shares AS r WHERE r.user_id = _uid RETURNING 1),
         del_sync AS (
             DELETE FROM zkeb.sync_metadata AS m WHERE m.user_id = _uid RETURNING 1),
         del_sessions AS (
             DELETE FROM zkeb.sessions AS s WHERE s.user_id = _uid RETURNING 1),
         del_devices AS (
             DELETE FROM zkeb.devices AS d WHERE d.user_id = _uid RETURNING 1),
         del_users AS (
             DELETE FROM zkeb.users AS u WHERE u.user_id = _uid RETURNING 1)
    SELECT pg_catalog.jsonb_build_object(
               'users', (SELECT pg_catalog.count(*) FROM del_users),
               'devices', (SELECT pg_catalog.count(*) FROM del_devices),
               'sessions', (SELECT pg_catalog.count(*) FROM del_sessions),
               'encrypted_backups', (SELECT pg_catalog.count(*) FROM del_backups),
               'recovery_shares', (SELECT pg_catalog.count(*) FROM del_shares),
               'sync_metadata', (SELECT pg_catalog.count(*) FROM del_sync))
      INTO _erased;
    -- The session is gone with the account: forget the one begin_session
    -- validated, so any later statement in this transaction finds none.
    PERFORM pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true);
    erasure_receipt := pg_catalog.jsonb_build_object(
        'user_hash', pg_catalog.encode(zkeb_private.audit_user_hash(_uid), 'hex'),
        'erased_at', pg_catalog.now(),
        'rows_erased', _erased,
        'last_audit_event_id', _event_id,
        'last_audit_hash', pg_catalog.encode(_head, 'hex'));
    RETURN NEXT;
END
$$;

ALTER FUNCTION zkeb_api.delete_account(session_token bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION delete_account(session_token bytea); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.delete_account(session_token bytea) IS 'Erase every row of the caller''s account in one transaction (only its pseudonymised audit chain remains) and return the erasure receipt: user hash, time, rows erased per table, last audit event and hash. Errors: ZK401 no valid session; ZK403 account suspended.';

--
-- Name: delete_backup(bytea, uuid); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.delete_backup(session_token bytea, backup_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(delete_backup.session_token);
    IF delete_backup.backup_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'backup_id must not be NULL';
    END IF;
    UPDATE zkeb.encrypted_backups AS b
       SET deleted_at = pg_catalog.now()
     WHERE b.user_id = _uid
       AND b.backup_id = delete_backup.backup_id
       AND b.deleted_at IS NULL
       AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now());
    IF NOT FOUND THEN
        PERFORM 1 FROM zkeb.encrypted_backups AS b
         WHERE b.user_id = _uid AND b.backup_id = delete_backup.backup_id AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now());
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such backup';
        END IF;
        -- Already in the trash: nothing to do.
        RETURN;
    END IF;
    PERFORM zkeb_private.audit(_uid, 'backup_delete', true,
        pg_catalog.jsonb_build_object('backup_id', delete_backup.backup_id));
END
$$;

ALTER FUNCTION zkeb_api.delete_backup(session_token bytea, backup_id uuid) OWNER TO zkeb_owner;

--
-- Name: FUNCTION delete_backup(session_token bytea, backup_id uuid); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.delete_backup(session_token bytea, backup_id uuid) IS 'Move a backup to the trash (it still counts against the quota until purged); trashing a trashed backup is a no-op. Errors: ZK401 no valid session; ZK403 account suspended; ZK404 no such (unexpired) backup for this user; ZK422 backup_id is NULL.';

--
-- Name: get_backup(bytea, uuid); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.get_backup(session_token bytea, backup_id uuid) RETURNS TABLE(ciphertext bytea, nonce bytea, auth_tag bytea, signature bytea, device_id uuid, public_key bytea, key_algorithm text, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(get_backup.session_token);
    IF get_backup.backup_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'backup_id must not be NULL';
    END IF;
    RETURN QUERY
    SELECT b.ciphertext, b.nonce, b.auth_tag, b.signature, b.device_id, d.public_key,
           b.key_algorithm, b.created_at
      FROM zkeb.encrypted_backups AS b
      JOIN zkeb.devices AS d ON d.user_id = b.user_id AND d.device_id = b.device_id
     WHERE b.user_id = _uid
       AND d.user_id = _uid
       AND b.backup_id = get_backup.backup_id
       AND b.deleted_at IS NULL
       AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now());
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such backup';
    END IF;
    IF (SELECT s.audit_downloads FROM zkeb_private.settings AS s WHERE s.id) THEN
        PERFORM zkeb_private.audit(_uid, 'backup_download', true,
            pg_catalog.jsonb_build_object('backup_id', get_backup.backup_id));
    END IF;
END
$$;

ALTER FUNCTION zkeb_api.get_backup(session_token bytea, backup_id uuid) OWNER TO zkeb_owner;

--
-- Name: FUNCTION get_backup(session_token bytea, backup_id uuid); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.get_backup(session_token bytea, backup_id uuid) IS 'Return a live backup with what is needed to verify and decrypt it: ciphertext, nonce, auth tag, signature and the signing device''s public key; trashed and expired backups are not found. Errors: ZK401 no valid session; ZK403 account suspended; ZK404 no live backup with this id for this user; ZK422 backup_id is NULL.';

--
-- Name: list_audit_events(bytea, integer, bigint); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.list_audit_events(session_token bytea, page_size integer DEFAULT 50, before_id bigint DEFAULT NULL::bigint) RETURNS TABLE(event_id bigint, action text, success boolean, created_at timestamp with time zone, metadata jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
    _user_hash bytea;
BEGIN
    _uid := zkeb_private.begin_session(list_audit_events.session_token);
    IF list_audit_events.page_size IS NULL OR list_audit_events.page_size < 1 OR list_audit_events.page_size > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'page_size must be between 1 and 1000',
            DETAIL = pg_catalog.format('page_size is %s', list_audit_events.page_size);
    END IF;
    IF list_audit_events.before_id < 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'before_id must be positive';
    END IF;
    _user_hash := zkeb_private.audit_user_hash(_uid);
    RETURN QUERY
    SELECT l.event_id, l.action, l.success, l.created_at, l.metadata
      FROM zkeb.audit_logs AS l
     WHERE l.user_hash = _user_hash
       AND l.event_id < COALESCE(list_audit_events.before_id, 9223372036854775807)
     ORDER BY l.event_id DESC
     LIMIT list_audit_events.page_size;
END
$$;

ALTER FUNCTION zkeb_api.list_audit_events(session_token bytea, page_size integer, before_id bigint) OWNER TO zkeb_owner;

--
-- Name: FUNCTION list_audit_events(session_token bytea, page_size integer, before_id bigint); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.list_audit_events(session_token bytea, page_size integer, before_id bigint) IS 'Return the caller''s own audit trail, newest first, one keyset page before before_id; event_id is the position in the caller''s own chain. Errors: ZK401 no valid session; ZK403 account suspended; ZK422 page_size not in 1..1000 or before_id not positive.';

--
-- Name: list_backups(bytea, integer, timestamp with time zone, uuid, bytea, boolean); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.list_backups(session_token bytea, page_size integer DEFAULT 50, before_created_at timestamp with time zone DEFAULT NULL::timestamp with time zone, before_id uuid DEFAULT NULL::uuid, only_name_hash bytea DEFAULT NULL::bytea, in_trash boolean DEFAULT false) RETURNS TABLE(backup_id uuid, backup_name_hash bytea, device_id uuid, size_bytes bigint, created_at timestamp with time zone, expires_at timestamp with time zone, deleted_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

ALTER FUNCTION zkeb_api.list_backups(session_token bytea, page_size integer, before_created_at timestamp with time zone, before_id uuid, only_name_hash bytea, in_trash boolean) OWNER TO zkeb_owner;

--
-- Name: FUNCTION list_backups(session_token bytea, page_size integer, before_created_at timestamp with time zone, before_id uuid, only_name_hash bytea, in_trash boolean); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.list_backups(session_token bytea, page_size integer, before_created_at timestamp with time zone, before_id uuid, only_name_hash bytea, in_trash boolean) IS 'List the caller''s live backups (or the trash with in_trash), newest first, one keyset page after (before_created_at, before_id), without ciphertext; expired backups are left out. Errors: ZK401 no valid session; ZK403 account suspended; ZK422 page_size not in 1..1000, only one of before_created_at and before_id, only_name_hash not 32 bytes or in_trash NULL.';

--
-- Name: list_devices(bytea); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.list_devices(session_token bytea) RETURNS TABLE(device_id uuid, device_id_hash bytea, key_algorithm text, public_key bytea, created_at timestamp with time zone, revoked_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

ALTER FUNCTION zkeb_api.list_devices(session_token bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION list_devices(session_token bytea); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.list_devices(session_token bytea) IS 'List the caller''s devices, revoked ones included, oldest first. Errors: ZK401 no valid session; ZK403 account suspended.';

--
-- Name: list_recovery_shares(bytea); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.list_recovery_shares(session_token bytea) RETURNS TABLE(recovery_set_id uuid, guardian_hash bytea, share_index integer, threshold integer, total_shares integer, encrypted_share bytea, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(list_recovery_shares.session_token);
    RETURN QUERY
    SELECT r.recovery_set_id, r.guardian_hash, r.share_index, r.threshold, r.total_shares,
           r.encrypted_share, r.created_at
      FROM zkeb.recovery_shares AS r
     WHERE r.user_id = _uid
     ORDER BY r.share_index;
END
$$;

ALTER FUNCTION zkeb_api.list_recovery_shares(session_token bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION list_recovery_shares(session_token bytea); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.list_recovery_shares(session_token bytea) IS 'List the shares of the caller''s current recovery set, by share index. Errors: ZK401 no valid session; ZK403 account suspended.';

--
-- Name: login(bytea, bytea, uuid, interval); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.login(username_hash bytea, auth_key bytea, device_id uuid DEFAULT NULL::uuid, ttl interval DEFAULT '12:00:00'::interval) RETURNS TABLE(status text, session_token bytea, user_id uuid, expires_at timestamp with time zone, retry_after interval)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _settings zkeb_private.settings;
    _fake_salt bytea;
    _uid uuid;
    _salt bytea;
    _verifier bytea;
    _locked_until timestamptz;
    _key_ok boolean;
    _token bytea;
BEGIN
    IF login.username_hash IS NULL OR pg_catalog.octet_length(login.username_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'username_hash must be 32 bytes';
    END IF;
    IF login.auth_key IS NULL OR pg_catalog.octet_length(login.auth_key) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'auth_key must be 32 bytes';
    END IF;
    IF login.ttl IS NULL OR login.ttl < interval '1 minute' OR login.ttl > interval '30 days' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'ttl must be between 1 minute and 30 days',
            DETAIL = pg_catalog.format('ttl is %s', login.ttl);
    END IF;
    PERFORM zkeb_private.begin_lookup(login.username_hash, NULL);
    _settings := zkeb_private.settings();
    SELECT u.user_id, u.auth_salt, u.auth_verifier, u.locked_until
      INTO _uid, _salt, _verifier, _locked_until
      FROM zkeb.users AS u
     WHERE u.username_hash = login.username_hash;
    -- The same work for a known and an unknown user: the fake salt and one
    -- verifier hash either way.
    _fake_salt := zkeb_private.hmac_sha256(_settings.prelogin_key, login.username_hash);
    _key_ok := COALESCE(pg_catalog.sha256(COALESCE(_salt, _fake_salt) || login.auth_key) = _verifier, false);
    IF _uid IS NULL THEN
        -- Unknown (or deleted) account: nobody to count the failure against.
        status := 'denied';
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM zkeb_private.begin_lookup(login.username_hash, _uid);

    IF _locked_until > pg_catalog.now() THEN
        -- The audit write needs the account row, which may be gone by now.
        SELECT u.locked_until INTO _locked_until
          FROM zkeb.users AS u
         WHERE u.user_id = _uid
           FOR UPDATE;
        IF NOT FOUND THEN
            status := 'denied';
            RETURN NEXT;
            RETURN;
        END IF;
        PERFORM zkeb_private.audit(_uid, 'login_locked', false, '{}'::jsonb);
        status := 'locked';
        retry_after := GREATEST(_locked_until - pg_catalog.now(), interval '0');
        RETURN NEXT;
        RETURN;
    END IF;

    IF NOT _key_ok THEN
        -- One atomic statement counts the failure and, at the threshold,
        -- locks the account (the count starts again after the lock).
        UPDATE zkeb.users AS u
           SET failed_login_count = CASE
                   WHEN u.locked_until > pg_catalog.now() THEN u.failed_login_count
                   WHEN u.failed_login_count + 1 >= _settings.lockout_threshold THEN 0
                   ELSE u.failed_login_count + 1 END,
               locked_until = CASE
                   WHEN u.locked_until > pg_catalog.now() THEN u.locked_until
                   WHEN u.failed_login_count + 1 >= _settings.lockout_threshold
                       THEN pg_catalog.now() + _settings.lockout_duration
                   ELSE u.locked_until END
         WHERE u.user_id = _uid
        RETURNING u.locked_until INTO _locked_until;
        IF NOT FOUND THEN
            -- The account was deleted meanwhile: it is unknown now.
            status := 'denied';
            RETURN NEXT;
            RETURN;
        END IF;
        IF _locked_until > pg_catalog.now() THEN
            PERFORM zkeb_private.audit(_uid, 'login_locked', false, '{"reason": "auth_key"}'::jsonb);
            status := 'locked';
            retry_after := _locked_until - pg_catalog.now();
        ELSE
            PERFORM zkeb_private.audit(_uid, 'login_denied', false, '{"reason": "auth_key"}'::jsonb);
            status := 'denied';
        END IF;
        RETURN NEXT;
        RETURN;
    END IF;

    -- The right key resets the counter. This also takes the account row
    -- lock, which revoke_device holds while it ends a device's sessions, so
    -- the device check below never misses a revocation.
    UPDATE zkeb.users AS u
       SET failed_login_count = 0, locked_until = NULL
     WHERE u.user_id = _uid
       AND (u.locked_until IS NULL OR u.locked_until <= pg_catalog.now());
    IF NOT FOUND THEN
        -- A concurrent call locked the account (or deleted it) meanwhile.
        SELECT u.locked_until INTO _locked_until FROM zkeb.users AS u WHERE u.user_id = _uid;
        IF _locked_until > pg_catalog.now() THEN
            status := 'locked';
            retry_after := _locked_until - pg_catalog.now();
        ELSE
            status := 'denied';
        END IF;
        RETURN NEXT;
        RETURN;
    END IF;

    IF login.device_id IS NOT NULL THEN
        PERFORM 1 FROM zkeb.devices AS d
         WHERE d.user_id = _uid AND d.device_id = login.device_id AND d.revoked_at IS NULL;
        IF NOT FOUND THEN
            -- A revoked or foreign device answers like a wrong key.
            PERFORM zkeb_private.audit(_uid, 'login_denied', false, '{"reason": "device"}'::jsonb);
            status := 'denied';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;

    -- The token carries the user id, so the session is found by primary key;
    -- only its hash is stored.
    _token := pg_catalog.uuid_send(_uid) || zkeb_private.random_bytes32();
    INSERT INTO zkeb.sessions (user_id, token_hash, device_id, expires_at)
    VALUES (_uid, pg_catalog.sha256(_token), login.device_id, pg_catalog.now() + login.ttl);
    PERFORM zkeb_private.audit(_uid, 'login_ok', true,
        pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('device_id', login.device_id)));
    status := 'ok';
    session_token := _token;
    user_id := _uid;
    expires_at := pg_catalog.now() + login.ttl;
    RETURN NEXT;
END
$$;

ALTER FUNCTION zkeb_api.login(username_hash bytea, auth_key bytea, device_id uuid, ttl interval) OWNER TO zkeb_owner;

--
-- Name: FUNCTION login(username_hash bytea, auth_key bytea, device_id uuid, ttl interval); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.login(username_hash bytea, auth_key bytea, device_id uuid, ttl interval) IS 'Check an auth key and open a session: status ok (with the 48-byte token, user id and expiry), denied (unknown user, wrong key, revoked or foreign device: identical answers) or locked (retry_after set); failures are counted and lock the account per settings. Errors: ZK422 username_hash or auth_key is not 32 bytes, or ttl is not between 1 minute and 30 days.';

--
-- Name: logout(bytea); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.logout(session_token bytea) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(logout.session_token);
    PERFORM zkeb_private.audit(_uid, 'logout', true, '{}'::jsonb);
    -- Last: every statement after this one would run without a session.
    UPDATE zkeb.sessions AS s
       SET revoked_at = pg_catalog.now()
     WHERE s.user_id = _uid
       AND s.token_hash = pg_catalog.sha256(logout.session_token)
       AND s.revoked_at IS NULL;
    -- The session ends here: forget the one begin_session validated, so any
    -- later statement in this transaction falls back to the full check (and
    -- finds the session revoked).
    PERFORM pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true);
END
$$;

ALTER FUNCTION zkeb_api.logout(session_token bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION logout(session_token bytea); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.logout(session_token bytea) IS 'End the current session; its token is refused from the next transaction on. Errors: ZK401 no valid session; ZK403 account suspended.';

--
-- Name: prelogin(bytea); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.prelogin(username_hash bytea) RETURNS TABLE(auth_salt bytea, kdf_params jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _settings zkeb_private.settings;
    _fake_salt bytea;
    _salt bytea;
    _kdf jsonb;
BEGIN
    IF prelogin.username_hash IS NULL OR pg_catalog.octet_length(prelogin.username_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'username_hash must be 32 bytes';
    END IF;
    PERFORM zkeb_private.begin_lookup(prelogin.username_hash, NULL);
    _settings := zkeb_private.settings();
    -- Computed on every call, so known and unknown users cost the same.
    _fake_salt := zkeb_private.hmac_sha256(_settings.prelogin_key, prelogin.username_hash);
    SELECT u.auth_salt, u.kdf_params INTO _salt, _kdf
      FROM zkeb.users AS u
     WHERE u.username_hash = prelogin.username_hash;
    auth_salt := COALESCE(_salt, _fake_salt);
    kdf_params := COALESCE(_kdf, _settings.default_kdf_params);
    RETURN NEXT;
END
$$;

ALTER FUNCTION zkeb_api.prelogin(username_hash bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION prelogin(username_hash bytea); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.prelogin(username_hash bytea) IS 'Return the auth salt and KDF parameters for a username hash; an unknown user gets a deterministic fake salt and the default parameters, so the answer does not reveal whether the account exists. Errors: ZK422 username_hash is not 32 bytes.';

--
-- Name: purge_backup(bytea, uuid); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.purge_backup(session_token bytea, backup_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
    _size bigint;
BEGIN
    _uid := zkeb_private.begin_session(purge_backup.session_token);
    IF purge_backup.backup_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'backup_id must not be NULL';
    END IF;
    DELETE FROM zkeb.encrypted_backups AS b
     WHERE b.user_id = _uid
       AND b.backup_id = purge_backup.backup_id
       AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now())
    RETURNING b.size_bytes INTO _size;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such backup';
    END IF;
    -- The bytes go back in the same transaction as the delete.
    UPDATE zkeb.users AS u
       SET storage_used_bytes = u.storage_used_bytes - _size
     WHERE u.user_id = _uid;
    PERFORM zkeb_private.audit(_uid, 'backup_purge', true,
        pg_catalog.jsonb_build_object('backup_id', purge_backup.backup_id, 'size_bytes', _size));
END
$$;

ALTER FUNCTION zkeb_api.purge_backup(session_token bytea, backup_id uuid) OWNER TO zkeb_owner;

--
-- Name: FUNCTION purge_backup(session_token bytea, backup_id uuid); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.purge_backup(session_token bytea, backup_id uuid) IS 'Delete a backup (live or trashed) for good now and give its bytes back to the quota. Errors: ZK401 no valid session; ZK403 account suspended; ZK404 no such (unexpired) backup for this user; ZK422 backup_id is NULL.';

--
-- Name: register_device(bytea, bytea, bytea, text); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.register_device(session_token bytea, device_id_hash bytea, public_key bytea, key_algorithm text) RETURNS TABLE(device_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
    _device uuid;
BEGIN
    _uid := zkeb_private.begin_session(register_device.session_token);
    IF register_device.device_id_hash IS NULL OR pg_catalog.octet_length(register_device.device_id_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'device_id_hash must be 32 bytes';
    END IF;
    IF register_device.key_algorithm IS NULL
       OR register_device.key_algorithm NOT IN ('ed25519', 'rsa-4096') THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'key_algorithm must be ed25519 or rsa-4096';
    END IF;
    IF register_device.public_key IS NULL
       OR pg_catalog.octet_length(register_device.public_key)
          <> (CASE register_device.key_algorithm WHEN 'ed25519' THEN 32 ELSE 550 END) THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'public_key has the wrong length for key_algorithm',
            DETAIL = pg_catalog.format('%s needs %s bytes', register_device.key_algorithm, CASE register_device.key_algorithm WHEN 'ed25519' THEN 32 ELSE 550 END);
    END IF;
    INSERT INTO zkeb.devices AS d (user_id, device_id_hash, key_algorithm, public_key)
    VALUES (_uid, register_device.device_id_hash, register_device.key_algorithm,
            register_device.public_key)
    ON CONFLICT ON CONSTRAINT devices_device_id_hash_key DO NOTHING
    RETURNING d.device_id INTO _device;
    IF _device IS NULL THEN
        -- A retry of the same registration answers with the same device.
        SELECT d.device_id INTO _device
          FROM zkeb.devices AS d
         WHERE d.user_id = _uid
           AND d.device_id_hash = register_device.device_id_hash
           AND d.key_algorithm = register_device.key_algorithm
           AND d.public_key = register_device.public_key
           AND d.revoked_at IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK409', MESSAGE = 'this device_id_hash is already registered with another key, or was revoked';
        END IF;
        device_id := _device;
        RETURN NEXT;
        RETURN;
    END IF;
    PERFORM zkeb_private.audit(_uid, 'device_register', true,
        pg_catalog.jsonb_build_object('device_id', _device, 'key_algorithm', register_device.key_algorithm));
    device_id := _device;
    RETURN NEXT;
END
$$;

ALTER FUNCTION zkeb_api.register_device(session_token bytea, device_id_hash bytea, public_key bytea, key_algorithm text) OWNER TO zkeb_owner;

--
-- Name: FUNCTION register_device(session_token bytea, device_id_hash bytea, public_key bytea, key_algorithm text); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.register_device(session_token bytea, device_id_hash bytea, public_key bytea, key_algorithm text) IS 'Register a device and its public signing key (ed25519: 32 bytes; rsa-4096: 550-byte DER SubjectPublicKeyInfo) and return its id; registering the same hash and key again returns the same id. Errors: ZK401 no valid session; ZK403 account suspended; ZK409 device_id_hash already registered with another key or revoked; ZK422 device_id_hash is not 32 bytes, unknown key_algorithm or wrong public_key length.';

--
-- Name: register_user(bytea, bytea, bytea, jsonb); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.register_user(username_hash bytea, auth_salt bytea, auth_key bytea, kdf_params jsonb) RETURNS TABLE(user_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid := pg_catalog.gen_random_uuid();
    _created uuid;
BEGIN
    IF register_user.username_hash IS NULL OR pg_catalog.octet_length(register_user.username_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'username_hash must be 32 bytes';
    END IF;
    IF register_user.auth_salt IS NULL OR pg_catalog.octet_length(register_user.auth_salt) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'auth_salt must be 32 bytes';
    END IF;
    IF register_user.auth_key IS NULL OR pg_catalog.octet_length(register_user.auth_key) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'auth_key must be 32 bytes';
    END IF;
    IF register_user.kdf_params IS NULL
       OR pg_catalog.jsonb_typeof(register_user.kdf_params) <> 'object'
       OR pg_catalog.octet_length(register_user.kdf_params::text) > 1024 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'kdf_params must be a JSON object of at most 1024 bytes';
    END IF;
    -- The lookup context names the new account, so the insert policy admits exactly it.
    PERFORM zkeb_private.begin_lookup(register_user.username_hash, _uid);
    -- Only a verifier of the auth key is stored, never the key.
    INSERT INTO zkeb.users AS u
           (user_id, username_hash, auth_salt, auth_verifier, kdf_params, storage_quota_bytes)
    VALUES (_uid, register_user.username_hash, register_user.auth_salt,
            pg_catalog.sha256(register_user.auth_salt || register_user.auth_key),
            register_user.kdf_params, (zkeb_private.settings()).default_quota_bytes)
    ON CONFLICT ON CONSTRAINT users_username_hash_key DO NOTHING
    RETURNING u.user_id INTO _created;
    IF _created IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK409', MESSAGE = 'this username hash is already registered';
    END IF;
    PERFORM zkeb_private.audit(_uid, 'register', true, '{}'::jsonb);
    user_id := _uid;
    RETURN NEXT;
END
$$;

ALTER FUNCTION zkeb_api.register_user(username_hash bytea, auth_salt bytea, auth_key bytea, kdf_params jsonb) OWNER TO zkeb_owner;

--
-- Name: FUNCTION register_user(username_hash bytea, auth_salt bytea, auth_key bytea, kdf_params jsonb); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.register_user(username_hash bytea, auth_salt bytea, auth_key bytea, kdf_params jsonb) IS 'Create an account from a client-side username hash, auth salt, auth key (only sha256(auth_salt || auth_key) is stored) and KDF parameters, and return its id. Errors: ZK409 username hash already registered; ZK422 a hash, salt or key is not 32 bytes, or kdf_params is not a JSON object of at most 1 KiB.';

--
-- Name: restore_backup(bytea, uuid); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.restore_backup(session_token bytea, backup_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(restore_backup.session_token);
    IF restore_backup.backup_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'backup_id must not be NULL';
    END IF;
    UPDATE zkeb.encrypted_backups AS b
       SET deleted_at = NULL
     WHERE b.user_id = _uid
       AND b.backup_id = restore_backup.backup_id
       AND b.deleted_at IS NOT NULL
       AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now());
    IF NOT FOUND THEN
        PERFORM 1 FROM zkeb.encrypted_backups AS b
         WHERE b.user_id = _uid AND b.backup_id = restore_backup.backup_id AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now());
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such backup';
        END IF;
        -- Not in the trash: nothing to do.
        RETURN;
    END IF;
    PERFORM zkeb_private.audit(_uid, 'backup_restore', true,
        pg_catalog.jsonb_build_object('backup_id', restore_backup.backup_id));
END
$$;

ALTER FUNCTION zkeb_api.restore_backup(session_token bytea, backup_id uuid) OWNER TO zkeb_owner;

--
-- Name: FUNCTION restore_backup(session_token bytea, backup_id uuid); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.restore_backup(session_token bytea, backup_id uuid) IS 'Bring a backup back from the trash; restoring a live backup is a no-op. Errors: ZK401 no valid session; ZK403 account suspended; ZK404 no such (unexpired) backup for this user; ZK422 backup_id is NULL.';

--
-- Name: revoke_device(bytea, uuid); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.revoke_device(session_token bytea, device_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(revoke_device.session_token);
    IF revoke_device.device_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'device_id must not be NULL';
    END IF;
    UPDATE zkeb.devices AS d
       SET revoked_at = pg_catalog.now()
     WHERE d.user_id = _uid
       AND d.device_id = revoke_device.device_id
       AND d.revoked_at IS NULL;
    IF NOT FOUND THEN
        PERFORM 1 FROM zkeb.devices AS d
         WHERE d.user_id = _uid AND d.device_id = revoke_device.device_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such device';
        END IF;
        -- Already revoked (and its sessions ended then): nothing to do.
        RETURN;
    END IF;
    -- The audit write takes the account row lock that login holds while it
    -- checks a device, so no session of this device opens unseen.
    PERFORM zkeb_private.audit(_uid, 'device_revoke', true,
        pg_catalog.jsonb_build_object('device_id', revoke_device.device_id));
    -- Last: this may end the caller's own session.
    UPDATE zkeb.sessions AS s
       SET revoked_at = pg_catalog.now()
     WHERE s.user_id = _uid
       AND s.device_id = revoke_device.device_id
       AND s.revoked_at IS NULL;
    -- Forget the session begin_session validated: when it was bound to this
    -- device it has just ended, and any later statement in this transaction
    -- must find that out with the full check.
    PERFORM pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true);
END
$$;

ALTER FUNCTION zkeb_api.revoke_device(session_token bytea, device_id uuid) OWNER TO zkeb_owner;

--
-- Name: FUNCTION revoke_device(session_token bytea, device_id uuid); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.revoke_device(session_token bytea, device_id uuid) IS 'Revoke a device and, in the same transaction, end its sessions (the caller''s own too, if bound to it); revoking a revoked device is a no-op. Errors: ZK401 no valid session; ZK403 account suspended; ZK404 no such device for this user; ZK422 device_id is NULL.';

--
-- Name: storage_usage(bytea); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.storage_usage(session_token bytea) RETURNS TABLE(storage_quota_bytes bigint, storage_used_bytes bigint, backup_count bigint, trashed_count bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(storage_usage.session_token);
    RETURN QUERY
    SELECT u.storage_quota_bytes, u.storage_used_bytes,
           (SELECT pg_catalog.count(*) FROM zkeb.encrypted_backups AS b
             WHERE b.user_id = _uid AND b.deleted_at IS NULL AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now())),
           (SELECT pg_catalog.count(*) FROM zkeb.encrypted_backups AS b
             WHERE b.user_id = _uid AND b.deleted_at IS NOT NULL AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now()))
      FROM zkeb.users AS u
     WHERE u.user_id = _uid;
END
$$;

ALTER FUNCTION zkeb_api.storage_usage(session_token bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION storage_usage(session_token bytea); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.storage_usage(session_token bytea) IS 'Return the caller''s quota, used bytes (live and trash) and the number of live and trashed backups (expired ones are not counted). Errors: ZK401 no valid session; ZK403 account suspended.';

--
-- Name: store_recovery_shares(bytea, integer, bytea[], integer[], bytea[]); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.store_recovery_shares(session_token bytea, threshold integer, guardian_hashes bytea[], share_indexes integer[], encrypted_shares bytea[]) RETURNS TABLE(recovery_set_id uuid)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
    _total integer;
    _set uuid := pg_catalog.gen_random_uuid();
BEGIN
    _uid := zkeb_private.begin_session(store_recovery_shares.session_token);
    IF store_recovery_shares.guardian_hashes IS NULL OR store_recovery_shares.share_indexes IS NULL
       OR store_recovery_shares.encrypted_shares IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'guardian_hashes, share_indexes and encrypted_shares must not be NULL';
    END IF;
    IF pg_catalog.array_ndims(store_recovery_shares.guardian_hashes) IS DISTINCT FROM 1
       OR pg_catalog.array_ndims(store_recovery_shares.share_indexes) IS DISTINCT FROM 1
       OR pg_catalog.array_ndims(store_recovery_shares.encrypted_shares) IS DISTINCT FROM 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'guardian_hashes, share_indexes and encrypted_shares must be non-empty one-dimensional arrays';
    END IF;
    _total := pg_catalog.cardinality(store_recovery_shares.guardian_hashes);
    IF pg_catalog.cardinality(store_recovery_shares.share_indexes) <> _total
       OR pg_catalog.cardinality(store_recovery_shares.encrypted_shares) <> _total THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'guardian_hashes, share_indexes and encrypted_shares must have the same length';
    END IF;
    IF store_recovery_shares.threshold IS NULL OR store_recovery_shares.threshold < 2
       OR store_recovery_shares.threshold > _total OR _total > 255 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'need 2 <= threshold <= number of shares <= 255',
            DETAIL = pg_catalog.format('threshold %s, %s shares', store_recovery_shares.threshold, _total);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.unnest(store_recovery_shares.guardian_hashes) AS g(h)
                WHERE g.h IS NULL OR pg_catalog.octet_length(g.h) <> 32) THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'every guardian hash must be 32 bytes';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.unnest(store_recovery_shares.share_indexes) AS i(n)
                WHERE i.n IS NULL OR i.n < 1 OR i.n > _total)
       OR (SELECT pg_catalog.count(DISTINCT i.n)
             FROM pg_catalog.unnest(store_recovery_shares.share_indexes) AS i(n)) <> _total THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'share indexes must be distinct and between 1 and the number of shares';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.unnest(store_recovery_shares.encrypted_shares) AS s(b)
                WHERE s.b IS NULL OR pg_catalog.octet_length(s.b) NOT BETWEEN 1 AND 4096) THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'every encrypted share must be 1 to 4096 bytes';
    END IF;
    -- The account row lock serialises replacements, so exactly one set survives.
    PERFORM 1 FROM zkeb.users AS u WHERE u.user_id = _uid FOR NO KEY UPDATE;
    DELETE FROM zkeb.recovery_shares AS r WHERE r.user_id = _uid;
    INSERT INTO zkeb.recovery_shares
           (user_id, recovery_set_id, share_index, guardian_hash, threshold, total_shares,
            encrypted_share)
    SELECT _uid, _set, x.i, x.g, store_recovery_shares.threshold, _total, x.s
      FROM ROWS FROM (pg_catalog.unnest(store_recovery_shares.guardian_hashes),
                      pg_catalog.unnest(store_recovery_shares.share_indexes),
                      pg_catalog.unnest(store_recovery_shares.encrypted_shares)) AS x(g, i, s);
    PERFORM zkeb_private.audit(_uid, 'recovery_shares_store', true,
        pg_catalog.jsonb_build_object('recovery_set_id', _set,
                                      'threshold', store_recovery_shares.threshold,
                                      'total_shares', _total));
    recovery_set_id := _set;
    RETURN NEXT;
END
$$;

ALTER FUNCTION zkeb_api.store_recovery_shares(session_token bytea, threshold integer, guardian_hashes bytea[], share_indexes integer[], encrypted_shares bytea[]) OWNER TO zkeb_owner;

--
-- Name: FUNCTION store_recovery_shares(session_token bytea, threshold integer, guardian_hashes bytea[], share_indexes integer[], encrypted_shares bytea[]); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.store_recovery_shares(session_token bytea, threshold integer, guardian_hashes bytea[], share_indexes integer[], encrypted_shares bytea[]) IS 'Replace the caller''s recovery share set atomically with a new one (guardian hashes, distinct share indexes 1..total, client-encrypted shares, 2 <= threshold <= total <= 255) and return its id. Errors: ZK401 no valid session; ZK403 account suspended; ZK422 bad threshold, arrays of unequal length, non-distinct or out-of-range indexes, wrong hash or share length.';

--
-- Name: sync_pull(bytea, bigint, integer); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.sync_pull(session_token bytea, after_seq bigint DEFAULT 0, page_size integer DEFAULT 100) RETURNS TABLE(seq bigint, entity_hash bytea, device_id uuid, vector_clock jsonb, lamport bigint, payload bytea, is_sibling boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(sync_pull.session_token);
    IF sync_pull.after_seq IS NULL OR sync_pull.after_seq < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'after_seq must be a non-negative integer';
    END IF;
    IF sync_pull.page_size IS NULL OR sync_pull.page_size < 1 OR sync_pull.page_size > 1000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'page_size must be between 1 and 1000',
            DETAIL = pg_catalog.format('page_size is %s', sync_pull.page_size);
    END IF;
    RETURN QUERY
    SELECT m.seq, m.entity_hash, m.device_id, m.vector_clock, m.lamport, m.payload, m.is_sibling
      FROM zkeb.sync_metadata AS m
     WHERE m.user_id = _uid AND m.seq > sync_pull.after_seq
     ORDER BY m.seq
     LIMIT sync_pull.page_size;
END
$$;

ALTER FUNCTION zkeb_api.sync_pull(session_token bytea, after_seq bigint, page_size integer) OWNER TO zkeb_owner;

--
-- Name: FUNCTION sync_pull(session_token bytea, after_seq bigint, page_size integer); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.sync_pull(session_token bytea, after_seq bigint, page_size integer) IS 'Return the caller''s current sync heads and siblings whose last change has seq > after_seq, in seq order, one page at a time. Errors: ZK401 no valid session; ZK403 account suspended; ZK422 after_seq negative or page_size not in 1..1000.';

--
-- Name: sync_push(bytea, bytea, uuid, jsonb, bigint, bytea); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.sync_push(session_token bytea, entity_hash bytea, device_id uuid, vector_clock jsonb, lamport bigint, payload bytea DEFAULT NULL::bytea) RETURNS TABLE(status text, seq bigint, merged_clock jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
    _max_payload integer;
    _revoked timestamptz;
    _last_lamport bigint;
    _equal_seq bigint;
    _equal_same boolean;
    _dominating integer;
    _concurrent integer;
    _max_seq bigint;
    _merged jsonb;
    _flip integer;
    _n integer;
    _seq bigint;
BEGIN
    _uid := zkeb_private.begin_session(sync_push.session_token);
    IF sync_push.entity_hash IS NULL OR pg_catalog.octet_length(sync_push.entity_hash) <> 32 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'entity_hash must be 32 bytes';
    END IF;
    IF sync_push.device_id IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'device_id must not be NULL';
    END IF;
    IF NOT zkeb_private.valid_vector_clock(sync_push.vector_clock) THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'vector_clock must be a JSON object of at most 1000 entries mapping device ids (uuid text) to non-negative integers';
    END IF;
    IF sync_push.lamport IS NULL OR sync_push.lamport < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'lamport must be a non-negative integer';
    END IF;
    _max_payload := (zkeb_private.settings()).max_sync_payload_bytes;
    IF pg_catalog.octet_length(sync_push.payload) > _max_payload THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK413', MESSAGE = 'payload is too large',
            DETAIL = pg_catalog.format('payload is %s bytes, at most %s are accepted', pg_catalog.octet_length(sync_push.payload), _max_payload);
    END IF;
    -- Device row first (serialises the device's pushes, and revoke_device
    -- either waits for this push or makes it see the revocation), then the
    -- account row (serialises the user's pushes and hands out seq).
    SELECT d.revoked_at, d.sync_lamport INTO _revoked, _last_lamport
      FROM zkeb.devices AS d
     WHERE d.user_id = _uid AND d.device_id = sync_push.device_id
       FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such device';
    END IF;
    IF _revoked IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK403', MESSAGE = 'the device is revoked';
    END IF;
    PERFORM 1 FROM zkeb.users AS u WHERE u.user_id = _uid FOR NO KEY UPDATE;

    SELECT pg_catalog.max(h.seq) FILTER (WHERE h.pushed_ge AND h.head_ge),
           pg_catalog.bool_and(h.device_id = sync_push.device_id
                               AND h.lamport = sync_push.lamport
                               AND h.payload IS NOT DISTINCT FROM sync_push.payload)
               FILTER (WHERE h.pushed_ge AND h.head_ge),
           pg_catalog.count(*) FILTER (WHERE h.head_ge AND NOT h.pushed_ge),
           pg_catalog.count(*) FILTER (WHERE NOT h.pushed_ge AND NOT h.head_ge),
           pg_catalog.max(h.seq)
      INTO _equal_seq, _equal_same, _dominating, _concurrent, _max_seq
      FROM (SELECT m.seq, m.device_id, m.lamport, m.payload,
                   NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_each_text(m.vector_clock) AS e(k, v)
                        WHERE e.v::numeric > COALESCE((sync_push.vector_clock ->> e.k)::numeric, 0)) AS pushed_ge,
                   NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_each_text(sync_push.vector_clock) AS e(k, v)
                        WHERE e.v::numeric > COALESCE((m.vector_clock ->> e.k)::numeric, 0)) AS head_ge
              FROM zkeb.sync_metadata AS m
             WHERE m.user_id = _uid AND m.entity_hash = sync_push.entity_hash) AS h;

    -- Pointwise maximum of the pushed clock and every head.
    SELECT COALESCE(pg_catalog.jsonb_object_agg(c.k, c.v), '{}'::jsonb) INTO _merged
      FROM (SELECT e.k, pg_catalog.max(e.v::numeric) AS v
              FROM (SELECT p.k, p.v FROM pg_catalog.jsonb_each_text(sync_push.vector_clock) AS p(k, v)
                    UNION ALL
                    SELECT x.k, x.v
                      FROM zkeb.sync_metadata AS m,
                           pg_catalog.jsonb_each_text(m.vector_clock) AS x(k, v)
                     WHERE m.user_id = _uid AND m.entity_hash = sync_push.entity_hash) AS e
             GROUP BY e.k) AS c;

    IF _equal_seq IS NOT NULL THEN
        IF NOT _equal_same THEN
            RAISE EXCEPTION USING ERRCODE = 'ZK409', MESSAGE = 'another version with this vector clock is stored',
            DETAIL = pg_catalog.format('seq %s', _equal_seq);
        END IF;
        status := 'applied';
        seq := _equal_seq;
        merged_clock := _merged;
        RETURN NEXT;
        RETURN;
    END IF;
    IF _dominating > 0 THEN
        status := 'stale';
        seq := _max_seq;
        merged_clock := _merged;
        RETURN NEXT;
        RETURN;
    END IF;
    -- Only a push that writes must carry a new Lamport value: a retry (even of
    -- an older push) and a stale push answer without writing.
    IF sync_push.lamport <= _last_lamport THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK409', MESSAGE = 'lamport must increase with every push of a device',
            DETAIL = pg_catalog.format('lamport %s, last pushed %s', sync_push.lamport, _last_lamport);
    END IF;

    -- Heads the push dominates are superseded.
    DELETE FROM zkeb.sync_metadata AS m
     WHERE m.user_id = _uid AND m.entity_hash = sync_push.entity_hash AND NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_each_text(m.vector_clock) AS e(k, v)
                        WHERE e.v::numeric > COALESCE((sync_push.vector_clock ->> e.k)::numeric, 0));
    -- Heads that stay become siblings; each changed row gets a new seq.
    SELECT pg_catalog.count(*) INTO _flip
      FROM zkeb.sync_metadata AS m
     WHERE m.user_id = _uid AND m.entity_hash = sync_push.entity_hash AND NOT m.is_sibling;
    _n := _flip + 1;
    UPDATE zkeb.users AS u
       SET sync_seq = u.sync_seq + _n
     WHERE u.user_id = _uid
    RETURNING u.sync_seq INTO _seq;
    IF _flip > 0 THEN
        UPDATE zkeb.sync_metadata AS m
           SET is_sibling = true, seq = _seq - _n + o.rn, updated_at = pg_catalog.now()
          FROM (SELECT m2.version_id, pg_catalog.row_number() OVER (ORDER BY m2.seq) AS rn
                  FROM zkeb.sync_metadata AS m2
                 WHERE m2.user_id = _uid AND m2.entity_hash = sync_push.entity_hash
                   AND NOT m2.is_sibling) AS o
         WHERE m.user_id = _uid AND m.entity_hash = sync_push.entity_hash
           AND m.version_id = o.version_id;
    END IF;
    INSERT INTO zkeb.sync_metadata
           (user_id, entity_hash, device_id, vector_clock, lamport, seq, is_sibling, payload)
    VALUES (_uid, sync_push.entity_hash, sync_push.device_id, sync_push.vector_clock,
            sync_push.lamport, _seq, _concurrent > 0, sync_push.payload);
    UPDATE zkeb.devices AS d
       SET sync_lamport = sync_push.lamport
     WHERE d.user_id = _uid AND d.device_id = sync_push.device_id;
    status := CASE WHEN _concurrent > 0 THEN 'conflict' ELSE 'applied' END;
    seq := _seq;
    merged_clock := _merged;
    RETURN NEXT;
END
$$;

ALTER FUNCTION zkeb_api.sync_push(session_token bytea, entity_hash bytea, device_id uuid, vector_clock jsonb, lamport bigint, payload bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION sync_push(session_token bytea, entity_hash bytea, device_id uuid, vector_clock jsonb, lamport bigint, payload bytea); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.sync_push(session_token bytea, entity_hash bytea, device_id uuid, vector_clock jsonb, lamport bigint, payload bytea) IS 'Push a version of a synced entity with its vector clock: applied when the clock dominates the stored heads (or equals one: a retry), stale when a head dominates it (nothing written), conflict when concurrent (kept as a sibling until a later write dominates them all); returns the seq and the merged clock. Errors: ZK401 no valid session; ZK403 account suspended or the device is revoked; ZK404 no such device for this user; ZK409 a push that would write has a lamport not above the device''s last one, or the same clock is stored with other content; ZK413 payload above max_sync_payload_bytes; ZK422 entity_hash not 32 bytes, NULL device_id, invalid vector clock or negative lamport.';

--
-- Name: whoami(bytea); Type: FUNCTION; Schema: zkeb_api; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_api.whoami(session_token bytea) RETURNS TABLE(user_id uuid, storage_quota_bytes bigint, storage_used_bytes bigint, account_status text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uid uuid;
BEGIN
    _uid := zkeb_private.begin_session(whoami.session_token);
    RETURN QUERY
    SELECT u.user_id, u.storage_quota_bytes, u.storage_used_bytes, u.account_status
      FROM zkeb.users AS u
     WHERE u.user_id = _uid;
END
$$;

ALTER FUNCTION zkeb_api.whoami(session_token bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION whoami(session_token bytea); Type: COMMENT; Schema: zkeb_api; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_api.whoami(session_token bytea) IS 'Return the caller''s account id, quota, used bytes and status. Errors: ZK401 no valid session; ZK403 account suspended.';

--
-- Name: check_invariants(); Type: FUNCTION; Schema: zkeb_maint; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_maint.check_invariants() RETURNS TABLE(invariant text, user_id uuid, detail text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    RETURN QUERY
    WITH stored AS (
        SELECT b.user_id, pg_catalog.sum(b.size_bytes)::bigint AS bytes, pg_catalog.count(*) AS n
          FROM zkeb.encrypted_backups AS b
         GROUP BY b.user_id
    ), usage AS (
        SELECT u.user_id, u.storage_used_bytes, u.storage_quota_bytes,
               COALESCE(s.bytes, 0) AS stored_bytes, COALESCE(s.n, 0) AS stored_count
          FROM zkeb.users AS u
          LEFT JOIN stored AS s ON s.user_id = u.user_id
    ), violations AS (
        -- Usage is the sum of the stored backups, live and trashed (and
        -- expired ones not yet cleaned up).
        SELECT 'storage_used_mismatch'::text AS invariant, g.user_id,
               pg_catalog.format('storage_used_bytes is %s but the %s stored backups hold %s bytes',
                                 g.storage_used_bytes, g.stored_count, g.stored_bytes) AS detail
          FROM usage AS g
         WHERE g.storage_used_bytes <> g.stored_bytes
        UNION ALL
        SELECT 'storage_over_quota', g.user_id,
               pg_catalog.format('storage_used_bytes %s is above storage_quota_bytes %s',
                                 g.storage_used_bytes, g.storage_quota_bytes)
          FROM usage AS g
         WHERE g.storage_used_bytes > g.storage_quota_bytes
        UNION ALL
        -- Orphaned backups would escape the usage comparison above.
        SELECT 'backup_without_account', s.user_id,
               pg_catalog.format('%s backups (%s bytes) belong to no account', s.n, s.bytes)
          FROM stored AS s
         WHERE NOT EXISTS (SELECT 1 FROM zkeb.users AS u WHERE u.user_id = s.user_id)
        UNION ALL
        SELECT 'sync_multiple_heads', m.user_id,
               pg_catalog.format('entity %s has %s heads, %s of them not marked as siblings',
                                 pg_catalog.encode(m.entity_hash, 'hex'), pg_catalog.count(*),
                                 pg_catalog.count(*) FILTER (WHERE NOT m.is_sibling))
          FROM zkeb.sync_metadata AS m
         GROUP BY m.user_id, m.entity_hash
        HAVING pg_catalog.count(*) > 1 AND pg_catalog.bool_or(NOT m.is_sibling)
        UNION ALL
        SELECT 'revoked_device_session', s.user_id,
               pg_catalog.format('a session of device %s (revoked at %s) is still valid until %s',
                                 s.device_id, d.revoked_at, s.expires_at)
          FROM zkeb.sessions AS s
          JOIN zkeb.devices AS d ON d.user_id = s.user_id AND d.device_id = s.device_id
         WHERE d.revoked_at IS NOT NULL
           AND s.revoked_at IS NULL
           AND s.expires_at > pg_catalog.now()
        UNION ALL
        SELECT 'audit_chain_broken', p.chain_user_id,
               pg_catalog.format('chain %s: event %s: %s',
                                 pg_catalog.encode(p.chain_user_hash, 'hex'), p.bad_event_id, p.bad_reason)
          FROM zkeb_private.audit_chain_problems(NULL, true) AS p
         WHERE p.bad_event_id IS NOT NULL
    )
    SELECT v.invariant, v.user_id, v.detail
      FROM violations AS v
     ORDER BY v.invariant, v.user_id, v.detail;
END
$$;

ALTER FUNCTION zkeb_maint.check_invariants() OWNER TO zkeb_owner;

--
-- Name: FUNCTION check_invariants(); Type: COMMENT; Schema: zkeb_maint; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_maint.check_invariants() IS 'One row per violated invariant (usage differs from the stored backups, usage above quota, orphaned backups, several sync heads not marked as siblings, a valid session of a revoked device, a broken audit chain or head); no rows when healthy. Errors: ZK403 caller is not a member of zkeb_maintainer.';

--
-- Name: cleanup_expired_backups(integer); Type: FUNCTION; Schema: zkeb_maint; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_maint.cleanup_expired_backups(batch_size integer DEFAULT 10000) RETURNS TABLE(deleted_count bigint, bytes_freed bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
DECLARE
    _deleted bigint;
    _freed bigint;
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    IF cleanup_expired_backups.batch_size IS NULL
       OR cleanup_expired_backups.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'batch_size must be 1 to 100000';
    END IF;
    SELECT p.deleted_count, p.bytes_freed INTO _deleted, _freed
      FROM zkeb_private.purge_backups(true, pg_catalog.now(), cleanup_expired_backups.batch_size) AS p;
    -- Last, so the system chain's lock is held only for the commit.
    PERFORM zkeb_private.audit(NULL, 'maint_cleanup_expired', true,
        pg_catalog.jsonb_build_object('deleted_count', _deleted, 'bytes_freed', _freed,
                                      'batch_size', cleanup_expired_backups.batch_size));
    RETURN QUERY SELECT _deleted, _freed;
END
$$;

ALTER FUNCTION zkeb_maint.cleanup_expired_backups(batch_size integer) OWNER TO zkeb_owner;

--
-- Name: FUNCTION cleanup_expired_backups(batch_size integer); Type: COMMENT; Schema: zkeb_maint; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_maint.cleanup_expired_backups(batch_size integer) IS 'Delete up to batch_size expired backups (expires_at <= now()), skipping rows and accounts locked by others, give their bytes back to each owner in the same transaction and log the run on the system audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK422 batch_size outside 1..100000.';

--
-- Name: export_audit_checkpoint(); Type: FUNCTION; Schema: zkeb_maint; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_maint.export_audit_checkpoint() RETURNS TABLE(user_hash bytea, last_event_id bigint, last_row_hash bytea)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
BEGIN
    PERFORM zkeb_private.begin_audit_read();
    RETURN QUERY
    SELECT DISTINCT ON (l.user_hash) l.user_hash, l.event_id, l.row_hash
      FROM zkeb.audit_logs AS l
     ORDER BY l.user_hash, l.event_id DESC;
END
$$;

ALTER FUNCTION zkeb_maint.export_audit_checkpoint() OWNER TO zkeb_owner;

--
-- Name: FUNCTION export_audit_checkpoint(); Type: COMMENT; Schema: zkeb_maint; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_maint.export_audit_checkpoint() IS 'The last event (position and row_hash) of every audit chain, for the operator to store outside the database and pass back to verify_audit_chain. Errors: ZK403 caller is not a member of zkeb_auditor or zkeb_maintainer.';

--
-- Name: purge_audit_logs(interval, integer); Type: FUNCTION; Schema: zkeb_maint; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_maint.purge_audit_logs(older_than interval DEFAULT NULL::interval, batch_size integer DEFAULT 10000) RETURNS TABLE(deleted_count bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
DECLARE
    _older interval;
    _cutoff timestamptz;
    _hashes bytea[];
    _lasts bigint[];
    _tids tid[];
    _deleted bigint := 0;
    _chains bigint := 0;
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    IF purge_audit_logs.batch_size IS NULL OR purge_audit_logs.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'batch_size must be 1 to 100000';
    END IF;
    _older := COALESCE(purge_audit_logs.older_than, (zkeb_private.settings()).audit_retention);
    IF _older < interval '1 day' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'older_than must be at least 1 day';
    END IF;
    _cutoff := pg_catalog.now() - _older;

    -- The oldest events first, through the partial created_at index; each
    -- chain is cut after the newest of its events in the batch. A chain that
    -- another purge holds is left for the next run: no row locks (the log
    -- has no UPDATE policy, so FOR UPDATE cannot be used), a try-lock per
    -- chain instead, never waited for.
    SELECT pg_catalog.array_agg(o.user_hash ORDER BY o.user_hash),
           pg_catalog.array_agg(o.last_id ORDER BY o.user_hash)
      INTO _hashes, _lasts
      FROM (SELECT b.user_hash, pg_catalog.max(b.event_id) AS last_id
              FROM (SELECT l.user_hash, l.event_id
                      FROM zkeb.audit_logs AS l
                     WHERE l.created_at < _cutoff
                       AND l.action <> 'audit_retention_anchor'
                     ORDER BY l.created_at
                     LIMIT purge_audit_logs.batch_size) AS b
             GROUP BY b.user_hash) AS o
     WHERE pg_catalog.pg_try_advisory_xact_lock(
               7547406,
               ('x' || pg_catalog.encode(pg_catalog.substr(o.user_hash, 1, 4), 'hex'))::bit(32)::integer);

    IF _hashes IS NOT NULL THEN
        -- The whole prefix of each chain (event_id <= the cut), found with
        -- one primary-key range scan per chain: the aggregate keeps the
        -- lateral subquery parameterised (a plain join was planned as a hash
        -- join over the whole log). Audit rows are never updated and these
        -- chains are ours until commit, so their ctids stay put.
        SELECT pg_catalog.array_agg(x.tid)
          INTO _tids
          FROM (SELECT pg_catalog.unnest(p.tids) AS tid
                  FROM ROWS FROM (pg_catalog.unnest(_hashes), pg_catalog.unnest(_lasts)) AS t(user_hash, last_id)
                 CROSS JOIN LATERAL (
                       SELECT pg_catalog.array_agg(l.ctid) AS tids
                         FROM zkeb.audit_logs AS l
                        WHERE l.user_hash = t.user_hash
                          AND l.event_id <= t.last_id) AS p) AS x;
        -- The append-only trigger lets this DELETE through, and nothing else.
        PERFORM pg_catalog.set_config('zkeb.audit_purge', 'on', true);
        WITH cut AS (
            SELECT t.user_hash, t.last_id
              FROM ROWS FROM (pg_catalog.unnest(_hashes), pg_catalog.unnest(_lasts)) AS t(user_hash, last_id)
        ), gone AS (
            DELETE FROM zkeb.audit_logs AS l
             WHERE l.ctid = ANY (_tids)
            RETURNING l.user_hash, l.event_id, l.action, l.metadata, l.created_at, l.prev_hash, l.row_hash
        ), anchors AS (
            INSERT INTO zkeb.audit_logs (user_hash, event_id, action, success, metadata, created_at, prev_hash, row_hash)
            SELECT g.user_hash, g.event_id, 'audit_retention_anchor', true,
                   CASE WHEN g.action = 'audit_retention_anchor' THEN g.metadata
                        ELSE pg_catalog.jsonb_build_object(
                                 'purged_through_event_id', g.event_id,
                                 'last_purged_action', g.action,
                                 'last_purged_created_at', g.created_at,
                                 'older_than', _older::text)
                   END,
                   pg_catalog.clock_timestamp(), g.prev_hash, g.row_hash
              FROM gone AS g
              JOIN cut ON cut.user_hash = g.user_hash AND cut.last_id = g.event_id
            RETURNING 1
        )
        SELECT pg_catalog.count(*) FILTER (WHERE g.action <> 'audit_retention_anchor'),
               (SELECT pg_catalog.count(*) FROM anchors)
          INTO _deleted, _chains
          FROM gone AS g;
        PERFORM pg_catalog.set_config('zkeb.audit_purge', '', true);
    END IF;

    PERFORM zkeb_private.audit(NULL, 'maint_purge_audit', true,
        pg_catalog.jsonb_build_object('deleted_count', _deleted, 'chains_cut', _chains,
                                      'older_than', _older::text, 'batch_size', purge_audit_logs.batch_size));
    RETURN QUERY SELECT _deleted;
END
$$;

ALTER FUNCTION zkeb_maint.purge_audit_logs(older_than interval, batch_size integer) OWNER TO zkeb_owner;

--
-- Name: FUNCTION purge_audit_logs(older_than interval, batch_size integer); Type: COMMENT; Schema: zkeb_maint; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_maint.purge_audit_logs(older_than interval, batch_size integer) IS 'Remove up to batch_size audit events older than older_than (default: the audit_retention setting, 6 years), cutting each chain at a prefix and leaving a retention anchor so the rest still verifies; logs the run on the system audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK422 batch_size outside 1..100000 or older_than below 1 day.';

--
-- Name: purge_expired_sessions(integer); Type: FUNCTION; Schema: zkeb_maint; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_maint.purge_expired_sessions(batch_size integer DEFAULT 10000) RETURNS TABLE(deleted_count bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
DECLARE
    _deleted bigint;
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    IF purge_expired_sessions.batch_size IS NULL
       OR purge_expired_sessions.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'batch_size must be 1 to 100000';
    END IF;
    WITH claimed AS (
        SELECT s.user_id, s.token_hash
          FROM zkeb.sessions AS s
         WHERE s.expires_at <= pg_catalog.now()
         ORDER BY s.expires_at
         LIMIT purge_expired_sessions.batch_size
           FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM zkeb.sessions AS s
         USING claimed AS c
         WHERE s.user_id = c.user_id AND s.token_hash = c.token_hash
        RETURNING 1
    )
    SELECT pg_catalog.count(*) INTO _deleted FROM gone;
    PERFORM zkeb_private.audit(NULL, 'maint_purge_sessions', true,
        pg_catalog.jsonb_build_object('deleted_count', _deleted,
                                      'batch_size', purge_expired_sessions.batch_size));
    RETURN QUERY SELECT _deleted;
END
$$;

ALTER FUNCTION zkeb_maint.purge_expired_sessions(batch_size integer) OWNER TO zkeb_owner;

--
-- Name: FUNCTION purge_expired_sessions(batch_size integer); Type: COMMENT; Schema: zkeb_maint; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_maint.purge_expired_sessions(batch_size integer) IS 'Delete up to batch_size expired sessions, skipping rows locked by others, and log the run on the system audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK422 batch_size outside 1..100000.';

--
-- Name: purge_trash(interval, integer); Type: FUNCTION; Schema: zkeb_maint; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_maint.purge_trash(older_than interval DEFAULT NULL::interval, batch_size integer DEFAULT 10000) RETURNS TABLE(deleted_count bigint, bytes_freed bigint)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $$
DECLARE
    _older interval;
    _deleted bigint;
    _freed bigint;
BEGIN
    PERFORM zkeb_private.begin_maintenance();
    IF purge_trash.batch_size IS NULL OR purge_trash.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'batch_size must be 1 to 100000';
    END IF;
    _older := COALESCE(purge_trash.older_than, (zkeb_private.settings()).trash_retention);
    IF _older < interval '0' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'older_than must not be negative';
    END IF;
    SELECT p.deleted_count, p.bytes_freed INTO _deleted, _freed
      FROM zkeb_private.purge_backups(false, pg_catalog.now() - _older, purge_trash.batch_size) AS p;
    PERFORM zkeb_private.audit(NULL, 'maint_purge_trash', true,
        pg_catalog.jsonb_build_object('deleted_count', _deleted, 'bytes_freed', _freed,
                                      'older_than', _older::text, 'batch_size', purge_trash.batch_size));
    RETURN QUERY SELECT _deleted, _freed;
END
$$;

ALTER FUNCTION zkeb_maint.purge_trash(older_than interval, batch_size integer) OWNER TO zkeb_owner;

--
-- Name: FUNCTION purge_trash(older_than interval, batch_size integer); Type: COMMENT; Schema: zkeb_maint; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_maint.purge_trash(older_than interval, batch_size integer) IS 'Delete up to batch_size backups that have been in the trash longer than older_than (default: the trash_retention setting), give their bytes back in the same transaction and log the run on the system audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK422 batch_size outside 1..100000 or negative older_than.';

--
-- Name: set_quota(uuid, bigint); Type: FUNCTION; Schema: zkeb_maint; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_maint.set_quota(user_id uuid, storage_quota_bytes bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
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

ALTER FUNCTION zkeb_maint.set_quota(user_id uuid, storage_quota_bytes bigint) OWNER TO zkeb_owner;

--
-- Name: FUNCTION set_quota(user_id uuid, storage_quota_bytes bigint); Type: COMMENT; Schema: zkeb_maint; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_maint.set_quota(user_id uuid, storage_quota_bytes bigint) IS 'Set an account''s storage quota (not below its current usage) and log quota_set on that account''s audit chain. Errors: ZK403 caller is not a member of zkeb_maintainer; ZK404 no such account; ZK409 below current usage; ZK422 negative or NULL quota.';

--
-- Name: verify_audit_chain(jsonb); Type: FUNCTION; Schema: zkeb_maint; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_maint.verify_audit_chain(checkpoint jsonb DEFAULT NULL::jsonb) RETURNS TABLE(ok boolean, checked_count bigint, first_bad_event_id bigint, first_bad_user_hash bytea, bad_chain_count bigint, detail text)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
#variable_conflict use_column
BEGIN
    PERFORM zkeb_private.begin_audit_read();
    RETURN QUERY
    WITH p AS (
        SELECT * FROM zkeb_private.audit_chain_problems(verify_audit_chain.checkpoint, false)
    ), firstbad AS (
        SELECT p.chain_user_hash, p.bad_event_id, p.bad_reason
          FROM p
         WHERE p.bad_event_id IS NOT NULL
         ORDER BY p.chain_user_hash
         LIMIT 1
    ), agg AS (
        SELECT COALESCE(pg_catalog.sum(p.chain_events), 0)::bigint AS n,
               pg_catalog.count(*) AS chains,
               pg_catalog.count(*) FILTER (WHERE p.bad_event_id IS NOT NULL) AS bad
          FROM p
    )
    SELECT agg.bad = 0,
           agg.n,
           f.bad_event_id,
           f.chain_user_hash,
           agg.bad,
           CASE WHEN agg.bad = 0
                THEN pg_catalog.format('%s events in %s chains verified', agg.n, agg.chains)
                ELSE pg_catalog.format('chain %s: event %s: %s (%s of %s chains bad)',
                                       pg_catalog.encode(f.chain_user_hash, 'hex'), f.bad_event_id,
                                       f.bad_reason, agg.bad, agg.chains)
           END
      FROM agg
      LEFT JOIN firstbad AS f ON true;
END
$$;

ALTER FUNCTION zkeb_maint.verify_audit_chain(checkpoint jsonb) OWNER TO zkeb_owner;

--
-- Name: FUNCTION verify_audit_chain(checkpoint jsonb); Type: COMMENT; Schema: zkeb_maint; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_maint.verify_audit_chain(checkpoint jsonb) IS 'Verify every audit chain link by link (and, given export_audit_checkpoint''s rows as a JSON array, that no chain lost or rewrote what the checkpoint saw), naming the first bad event; writes nothing. Errors: ZK403 caller is not a member of zkeb_auditor or zkeb_maintainer; ZK422 malformed checkpoint.';

--
-- Name: audit(uuid, text, boolean, jsonb); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.audit(user_id uuid, action text, success boolean, metadata jsonb DEFAULT '{}'::jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _prev_id bigint;
    _prev bytea;
    _hash bytea;
BEGIN
    IF audit.action = 'audit_retention_anchor' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422',
            MESSAGE = 'audit_retention_anchor events are written by purge_audit_logs only';
    END IF;
    IF audit.user_id IS NULL THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(7547406301);
        SELECT l.event_id, l.row_hash INTO _prev_id, _prev
          FROM zkeb.audit_logs AS l
         WHERE l.user_hash = zkeb_private.audit_user_hash(NULL)
         ORDER BY l.event_id DESC
         LIMIT 1;
        PERFORM zkeb_private.audit_append(NULL, audit.action, audit.success, audit.metadata, _prev_id, _prev);
        RETURN;
    END IF;
    SELECT u.audit_event_id, u.audit_head INTO _prev_id, _prev
      FROM zkeb.users AS u
     WHERE u.user_id = audit.user_id
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK404', MESSAGE = 'no such account';
    END IF;
    _hash := zkeb_private.audit_append(audit.user_id, audit.action, audit.success, audit.metadata, _prev_id, _prev);
    UPDATE zkeb.users AS u
       SET audit_event_id = COALESCE(_prev_id, 0) + 1, audit_head = _hash
     WHERE u.user_id = audit.user_id;
END
$$;

ALTER FUNCTION zkeb_private.audit(user_id uuid, action text, success boolean, metadata jsonb) OWNER TO zkeb_owner;

--
-- Name: FUNCTION audit(user_id uuid, action text, success boolean, metadata jsonb); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.audit(user_id uuid, action text, success boolean, metadata jsonb) IS 'Append one event to the audit chain of user_id (NULL: the system chain), computing its position and hash. Errors: ZK404 no such account; ZK422 action reserved for retention.';

--
-- Name: audit_append(uuid, text, boolean, jsonb, bigint, bytea); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.audit_append(user_id uuid, action text, success boolean, metadata jsonb, prev_event_id bigint, prev_hash bytea) RETURNS bytea
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.session_token', true);
    _cached text;
    _uh bytea;
    _id bigint := COALESCE(audit_append.prev_event_id, 0) + 1;
    _prev bytea := COALESCE(audit_append.prev_hash, pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex'));
    _meta jsonb := COALESCE(audit_append.metadata, '{}'::jsonb);
    _now timestamptz;
    _hash bytea;
BEGIN
    IF audit_append.action = 'audit_retention_anchor' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422',
            MESSAGE = 'audit_retention_anchor events are written by purge_audit_logs only';
    END IF;
    IF audit_append.user_id IS NOT NULL
       AND pg_catalog.length(_hex) = 96
       AND _hex = pg_catalog.current_setting('zkeb.session_checked', true)
       AND audit_append.user_id::text = pg_catalog.current_setting('zkeb.session_user_id', true) THEN
        _cached := pg_catalog.current_setting('zkeb.session_audit_hash', true);
        IF pg_catalog.length(_cached) = 64 THEN
            _uh := pg_catalog.decode(_cached, 'hex');
        ELSE
            _uh := zkeb_private.audit_user_hash(audit_append.user_id);
            PERFORM pg_catalog.set_config('zkeb.session_audit_hash', pg_catalog.encode(_uh, 'hex'), true);
        END IF;
    ELSE
        _uh := zkeb_private.audit_user_hash(audit_append.user_id);
    END IF;
    -- Read the clock only now that the head is locked, so created_at never
    -- goes backwards along a chain (retention cuts chains by age).
    _now := pg_catalog.clock_timestamp();
    _hash := pg_catalog.sha256(
        _prev
        || pg_catalog.convert_to(
               pg_catalog.concat_ws('|',
                   'zkeb-audit-v1',
                   pg_catalog.encode(_uh, 'hex'),
                   _id::text,
                   audit_append.action,
                   CASE WHEN audit_append.success THEN 't' ELSE 'f' END,
                   (EXTRACT(EPOCH FROM _now) * 1000000)::numeric(20, 0)::text,
                   _meta::text),
               'UTF8'));
    INSERT INTO zkeb.audit_logs (user_hash, event_id, action, success, metadata, created_at, prev_hash, row_hash)
    VALUES (_uh, _id, audit_append.action, audit_append.success, _meta, _now, _prev, _hash);
    RETURN _hash;
END
$$;

ALTER FUNCTION zkeb_private.audit_append(user_id uuid, action text, success boolean, metadata jsonb, prev_event_id bigint, prev_hash bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION audit_append(user_id uuid, action text, success boolean, metadata jsonb, prev_event_id bigint, prev_hash bytea); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.audit_append(user_id uuid, action text, success boolean, metadata jsonb, prev_event_id bigint, prev_hash bytea) IS 'Insert one audit event on the chain of user_id (NULL: the system chain) after the head (prev_event_id, prev_hash; NULL for an empty chain) that the caller holds locked, and return its row hash; the caller moves the head. Errors: ZK422 action reserved for retention.';

--
-- Name: audit_chain_problems(jsonb, boolean); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.audit_chain_problems(checkpoint jsonb, with_heads boolean) RETURNS TABLE(chain_user_hash bytea, chain_user_id uuid, chain_events bigint, bad_event_id bigint, bad_reason text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET jit TO 'off'
    AS $_$
#variable_conflict use_column
DECLARE
    _zero bytea := pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
    _hex constant text := '^(\\x)?[0-9a-fA-F]{64}$';
BEGIN
    IF audit_chain_problems.checkpoint IS NOT NULL
       AND (pg_catalog.jsonb_typeof(audit_chain_problems.checkpoint) IS DISTINCT FROM 'array'
            OR EXISTS (
                SELECT 1
                  FROM pg_catalog.jsonb_array_elements(audit_chain_problems.checkpoint) AS e(v)
                 WHERE pg_catalog.jsonb_typeof(e.v) IS DISTINCT FROM 'object'
                    OR pg_catalog.jsonb_typeof(e.v -> 'user_hash') IS DISTINCT FROM 'string'
                    OR pg_catalog.jsonb_typeof(e.v -> 'last_row_hash') IS DISTINCT FROM 'string'
                    OR pg_catalog.jsonb_typeof(e.v -> 'last_event_id') IS DISTINCT FROM 'number'
                    OR (e.v ->> 'user_hash') !~ _hex
                    OR (e.v ->> 'last_row_hash') !~ _hex
                    OR (e.v ->> 'last_event_id') !~ '^[1-9][0-9]{0,17}$')) THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422',
            MESSAGE = 'checkpoint must be a JSON array of {user_hash, last_event_id, last_row_hash} objects as export_audit_checkpoint returns them',
            HINT = 'SELECT jsonb_agg(to_jsonb(r)) FROM zkeb_maint.export_audit_checkpoint() AS r';
    END IF;

    RETURN QUERY
    WITH r AS (
        SELECT l.user_hash, l.event_id, l.action, l.prev_hash, l.row_hash,
               pg_catalog.lag(l.event_id) OVER w AS p_id,
               pg_catalog.lag(l.row_hash) OVER w AS p_hash,
               pg_catalog.lead(l.event_id) OVER w IS NULL AS is_last,
               -- zkeb_private.audit_row_hash(...) written out: a function with a
               -- pinned search_path is never inlined, and the call cost three
               -- times the hashing. Both must stay byte for byte the same
               -- encoding (docs/audit.md; tests verify chains audit() wrote).
               CASE WHEN l.action = 'audit_retention_anchor' THEN l.row_hash
                    ELSE pg_catalog.sha256(
                             l.prev_hash
                             || pg_catalog.convert_to(
                                    pg_catalog.concat_ws('|',
                                        'zkeb-audit-v1',
                                        pg_catalog.encode(l.user_hash, 'hex'),
                                        l.event_id::text,
                                        l.action,
                                        CASE WHEN l.success THEN 't' ELSE 'f' END,
                                        (EXTRACT(EPOCH FROM l.created_at) * 1000000)::numeric(20, 0)::text,
                                        l.metadata::text),
                                    'UTF8'))
               END AS computed
          FROM zkeb.audit_logs AS l
        WINDOW w AS (PARTITION BY l.user_hash ORDER BY l.event_id)
    ), v AS (
        SELECT r.user_hash, r.event_id, r.row_hash, r.is_last,
               CASE
                   WHEN r.p_id IS NULL AND r.action = 'audit_retention_anchor' THEN NULL
                   WHEN r.p_id IS NULL AND r.event_id <> 1 THEN pg_catalog.format(
                       'events 1 to %s are missing and no retention anchor stands for them', r.event_id - 1)
                   WHEN r.p_id IS NULL AND r.prev_hash <> _zero THEN
                       'the first event does not link to the zero hash'
                   WHEN r.action = 'audit_retention_anchor' THEN
                       'a retention anchor in the middle of the chain'
                   WHEN r.event_id <> r.p_id + 1 THEN pg_catalog.format(
                       'events %s to %s are missing', r.p_id + 1, r.event_id - 1)
                   WHEN r.prev_hash <> r.p_hash THEN
                       'prev_hash is not the row_hash of the previous event'
                   WHEN r.row_hash <> r.computed THEN
                       'row_hash does not match the event''s content'
               END AS reason,
               CASE
                   WHEN r.action = 'audit_retention_anchor' THEN r.event_id
                   WHEN r.p_id IS NULL AND r.event_id <> 1 THEN 1
                   WHEN r.p_id IS NOT NULL AND r.event_id <> r.p_id + 1 THEN r.p_id + 1
                   ELSE r.event_id
               END AS bad_id
          FROM r
    ), c AS (
        SELECT v.user_hash, pg_catalog.count(*) AS n, pg_catalog.max(v.event_id) AS last_id,
               (pg_catalog.array_agg(v.row_hash) FILTER (WHERE v.is_last))[1] AS last_hash
          FROM v
         GROUP BY v.user_hash
    ), cp AS (
        SELECT pg_catalog.decode(pg_catalog.right(e.v ->> 'user_hash', 64), 'hex') AS user_hash,
               (e.v ->> 'last_event_id')::bigint AS k,
               pg_catalog.decode(pg_catalog.right(e.v ->> 'last_row_hash', 64), 'hex') AS h
          FROM pg_catalog.jsonb_array_elements(
                   COALESCE(audit_chain_problems.checkpoint, '[]'::jsonb)) AS e(v)
    ), cp_bad AS (
        SELECT cp.user_hash,
               CASE WHEN c.user_hash IS NULL THEN cp.k
                    WHEN c.last_id < cp.k THEN c.last_id + 1
                    ELSE cp.k
               END AS bad_id,
               CASE WHEN c.user_hash IS NULL THEN pg_catalog.format(
                        'the chain is gone; the checkpoint has it up to event %s', cp.k)
                    WHEN c.last_id < cp.k THEN pg_catalog.format(
                        'the chain ends at event %s; the checkpoint has it up to event %s', c.last_id, cp.k)
                    WHEN v.row_hash <> cp.h THEN pg_catalog.format(
                        'event %s differs from the checkpoint', cp.k)
               END AS reason
          FROM cp
          LEFT JOIN c ON c.user_hash = cp.user_hash
          LEFT JOIN v ON v.user_hash = cp.user_hash AND v.event_id = cp.k
    ), u AS (
        SELECT a.user_id, zkeb_private.audit_user_hash(a.user_id) AS user_hash,
               a.audit_event_id, a.audit_head
          FROM zkeb.users AS a
         WHERE audit_chain_problems.with_heads
    ), head_bad AS (
        SELECT u.user_hash,
               CASE WHEN c.user_hash IS NULL THEN u.audit_event_id
                    WHEN c.last_id < u.audit_event_id THEN c.last_id + 1
                    WHEN c.last_id > u.audit_event_id THEN u.audit_event_id + 1
                    ELSE c.last_id
               END AS bad_id,
               CASE WHEN c.user_hash IS NULL AND u.audit_event_id > 0 THEN pg_catalog.format(
                        'the chain is gone; the account''s head is at event %s', u.audit_event_id)
                    WHEN c.user_hash IS NULL THEN NULL
                    WHEN c.last_id < u.audit_event_id THEN pg_catalog.format(
                        'the chain ends at event %s; the account''s head is at event %s', c.last_id, u.audit_event_id)
                    WHEN c.last_id > u.audit_event_id THEN pg_catalog.format(
                        'the chain goes on to event %s past the account''s head at event %s', c.last_id, u.audit_event_id)
                    WHEN c.last_hash IS DISTINCT FROM u.audit_head THEN pg_catalog.format(
                        'event %s is not the head stored on the account', c.last_id)
               END AS reason
          FROM u
          LEFT JOIN c ON c.user_hash = u.user_hash
    ), bad AS (
        SELECT DISTINCT ON (p.user_hash) p.user_hash, p.bad_id, p.reason
          FROM (SELECT v.user_hash, v.bad_id, v.reason FROM v WHERE v.reason IS NOT NULL
                UNION ALL
                SELECT cp_bad.user_hash, cp_bad.bad_id, cp_bad.reason FROM cp_bad WHERE cp_bad.reason IS NOT NULL
                UNION ALL
                SELECT head_bad.user_hash, head_bad.bad_id, head_bad.reason FROM head_bad WHERE head_bad.reason IS NOT NULL
               ) AS p
         ORDER BY p.user_hash, p.bad_id, p.reason
    )
    SELECT COALESCE(c.user_hash, bad.user_hash), u.user_id, COALESCE(c.n, 0)::bigint,
           bad.bad_id, bad.reason
      FROM c
      FULL JOIN bad ON bad.user_hash = c.user_hash
      LEFT JOIN u ON u.user_hash = COALESCE(c.user_hash, bad.user_hash);
END
$_$;

ALTER FUNCTION zkeb_private.audit_chain_problems(checkpoint jsonb, with_heads boolean) OWNER TO zkeb_owner;

--
-- Name: FUNCTION audit_chain_problems(checkpoint jsonb, with_heads boolean); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.audit_chain_problems(checkpoint jsonb, with_heads boolean) IS 'One row per audit chain: its length and first bad event (with the reason), checked link by link, against an optional checkpoint and optionally against the heads on zkeb.users. Errors: ZK422 malformed checkpoint.';

--
-- Name: audit_context_hashes(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.audit_context_hashes() RETURNS bytea[]
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.session_token', true);
    _cached text;
    _uid uuid;
    _hashes bytea[] := '{}';
BEGIN
    IF pg_catalog.length(_hex) = 96 AND _hex = pg_catalog.current_setting('zkeb.session_checked', true) THEN
        _cached := pg_catalog.current_setting('zkeb.session_audit_hash', true);
        IF pg_catalog.length(_cached) = 64 THEN
            _hashes := _hashes || pg_catalog.decode(_cached, 'hex');
        ELSE
            _uid := NULLIF(pg_catalog.current_setting('zkeb.session_user_id', true), '')::uuid;
            IF _uid IS NOT NULL THEN
                _hashes := _hashes || zkeb_private.audit_user_hash(_uid);
            END IF;
        END IF;
    ELSE
        _uid := zkeb_private.current_user_id();
        IF _uid IS NOT NULL THEN
            _hashes := _hashes || zkeb_private.audit_user_hash(_uid);
        END IF;
    END IF;
    -- The other contexts are empty in a session call: look at the setting
    -- before paying for the helper.
    IF pg_catalog.current_setting('zkeb.lookup_user_id', true) <> '' THEN
        _uid := zkeb_private.lookup_user_id();
        IF _uid IS NOT NULL THEN
            _hashes := _hashes || zkeb_private.audit_user_hash(_uid);
        END IF;
    END IF;
    IF pg_catalog.current_setting('zkeb.maintenance', true) <> '' AND zkeb_private.maintenance_active() THEN
        _hashes := _hashes || zkeb_private.audit_user_hash(NULL);
    END IF;
    RETURN _hashes;
END
$$;

ALTER FUNCTION zkeb_private.audit_context_hashes() OWNER TO zkeb_owner;

--
-- Name: FUNCTION audit_context_hashes(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.audit_context_hashes() IS 'Audit chain hashes the current transaction context may write to: its session user''s, its looked-up user''s, and the system chain under maintenance.';

--
-- Name: audit_logs_append_only(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.audit_logs_append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
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

ALTER FUNCTION zkeb_private.audit_logs_append_only() OWNER TO zkeb_owner;

--
-- Name: FUNCTION audit_logs_append_only(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.audit_logs_append_only() IS 'Trigger function that refuses UPDATE, TRUNCATE and DELETE on zkeb.audit_logs outside the retention purge. Errors: ZK403.';

--
-- Name: audit_reader_active(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.audit_reader_active() RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RETURN pg_catalog.current_setting('zkeb.audit_reader', true) IS NOT DISTINCT FROM 'on'
       AND (pg_catalog.pg_has_role(session_user, 'zkeb_auditor', 'MEMBER')
            OR pg_catalog.pg_has_role(session_user, 'zkeb_maintainer', 'MEMBER'));
END
$$;

ALTER FUNCTION zkeb_private.audit_reader_active() OWNER TO zkeb_owner;

--
-- Name: FUNCTION audit_reader_active(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.audit_reader_active() IS 'True inside an audit-reading context opened by a member of zkeb_auditor or zkeb_maintainer.';

--
-- Name: audit_row_hash(bytea, bytea, bigint, text, boolean, timestamp with time zone, jsonb); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.audit_row_hash(prev_hash bytea, user_hash bytea, event_id bigint, action text, success boolean, created_at timestamp with time zone, metadata jsonb) RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT pg_catalog.sha256(
        audit_row_hash.prev_hash
        || pg_catalog.convert_to(
               pg_catalog.concat_ws('|',
                   'zkeb-audit-v1',
                   pg_catalog.encode(audit_row_hash.user_hash, 'hex'),
                   audit_row_hash.event_id::text,
                   audit_row_hash.action,
                   CASE WHEN audit_row_hash.success THEN 't' ELSE 'f' END,
                   (EXTRACT(EPOCH FROM audit_row_hash.created_at) * 1000000)::numeric(20, 0)::text,
                   audit_row_hash.metadata::text),
               'UTF8'))
$$;

ALTER FUNCTION zkeb_private.audit_row_hash(prev_hash bytea, user_hash bytea, event_id bigint, action text, success boolean, created_at timestamp with time zone, metadata jsonb) OWNER TO zkeb_owner;

--
-- Name: FUNCTION audit_row_hash(prev_hash bytea, user_hash bytea, event_id bigint, action text, success boolean, created_at timestamp with time zone, metadata jsonb); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.audit_row_hash(prev_hash bytea, user_hash bytea, event_id bigint, action text, success boolean, created_at timestamp with time zone, metadata jsonb) IS 'sha256(prev_hash || canonical encoding of an audit row); see docs/audit.md for the encoding.';

--
-- Name: audit_user_hash(uuid); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.audit_user_hash(user_id uuid) RETURNS bytea
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _hash bytea;
BEGIN
    SELECT pg_catalog.sha256(s.audit_pepper_opad || pg_catalog.sha256(
               s.audit_pepper_ipad
               || CASE WHEN audit_user_hash.user_id IS NULL
                       THEN pg_catalog.convert_to('zkeb-audit-system-chain', 'UTF8')
                       ELSE pg_catalog.convert_to('zkeb-audit-user:', 'UTF8')
                            || pg_catalog.uuid_send(audit_user_hash.user_id)
                  END))
      INTO _hash
      FROM zkeb_private.settings AS s
     WHERE s.id;
    RETURN _hash;
END
$$;

ALTER FUNCTION zkeb_private.audit_user_hash(user_id uuid) OWNER TO zkeb_owner;

--
-- Name: FUNCTION audit_user_hash(user_id uuid); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.audit_user_hash(user_id uuid) IS 'Pseudonymised 32-byte hash of a user id (HMAC-SHA256 under the settings pepper); NULL gives the system chain''s hash.';

--
-- Name: begin_audit_read(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.begin_audit_read() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM pg_catalog.set_config('zkeb.session_token', '', true),
            pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_username_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_user_id', '', true),
            pg_catalog.set_config('zkeb.maintenance', '', true);
    IF NOT (pg_catalog.pg_has_role(session_user, 'zkeb_auditor', 'MEMBER')
            OR pg_catalog.pg_has_role(session_user, 'zkeb_maintainer', 'MEMBER')) THEN
        PERFORM pg_catalog.set_config('zkeb.audit_reader', '', true);
        RAISE EXCEPTION USING ERRCODE = 'ZK403', MESSAGE = 'reading the audit chain needs a member of zkeb_auditor or zkeb_maintainer';
    END IF;
    PERFORM pg_catalog.set_config('zkeb.audit_reader', 'on', true);
END
$$;

ALTER FUNCTION zkeb_private.begin_audit_read() OWNER TO zkeb_owner;

--
-- Name: FUNCTION begin_audit_read(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.begin_audit_read() IS 'Enter the audit-reading context. Errors: ZK403 when the login role is not a member of zkeb_auditor or zkeb_maintainer.';

--
-- Name: begin_lookup(bytea, uuid); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.begin_lookup(username_hash bytea, user_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM pg_catalog.set_config('zkeb.session_token', '', true),
            pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true),
            pg_catalog.set_config('zkeb.maintenance', '', true),
            pg_catalog.set_config('zkeb.audit_reader', '', true),
            pg_catalog.set_config('zkeb.lookup_username_hash',
                COALESCE(pg_catalog.encode(begin_lookup.username_hash, 'hex'), ''), true),
            pg_catalog.set_config('zkeb.lookup_user_id',
                COALESCE(begin_lookup.user_id::text, ''), true);
END
$$;

ALTER FUNCTION zkeb_private.begin_lookup(username_hash bytea, user_id uuid) OWNER TO zkeb_owner;

--
-- Name: FUNCTION begin_lookup(username_hash bytea, user_id uuid); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.begin_lookup(username_hash bytea, user_id uuid) IS 'Set the pre-session lookup context to one username hash and/or user id (clears every other context).';

--
-- Name: begin_maintenance(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.begin_maintenance() RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM pg_catalog.set_config('zkeb.session_token', '', true),
            pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_username_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_user_id', '', true),
            pg_catalog.set_config('zkeb.audit_reader', '', true);
    IF NOT pg_catalog.pg_has_role(session_user, 'zkeb_maintainer', 'MEMBER') THEN
        PERFORM pg_catalog.set_config('zkeb.maintenance', '', true);
        RAISE EXCEPTION USING ERRCODE = 'ZK403', MESSAGE = 'maintenance needs a member of zkeb_maintainer';
    END IF;
    PERFORM pg_catalog.set_config('zkeb.maintenance', 'on', true);
END
$$;

ALTER FUNCTION zkeb_private.begin_maintenance() OWNER TO zkeb_owner;

--
-- Name: FUNCTION begin_maintenance(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.begin_maintenance() IS 'Enter the maintenance context. Errors: ZK403 when the login role is not a member of zkeb_maintainer.';

--
-- Name: begin_session(bytea); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.begin_session(session_token bytea) RETURNS uuid
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _hex text := CASE WHEN octet_length(session_token) = 48
                      THEN pg_catalog.encode(session_token, 'hex') ELSE '' END;
    _uid uuid;
    _status text;
BEGIN
    PERFORM pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_username_hash', '', true),
            pg_catalog.set_config('zkeb.lookup_user_id', '', true),
            pg_catalog.set_config('zkeb.maintenance', '', true),
            pg_catalog.set_config('zkeb.audit_reader', '', true),
            pg_catalog.set_config('zkeb.session_token', _hex, true);
    IF _hex = '' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK401', MESSAGE = 'no valid session';
    END IF;
    _uid := zkeb_private.current_user_id();
    IF _uid IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK401', MESSAGE = 'no valid session';
    END IF;
    PERFORM pg_catalog.set_config('zkeb.session_user_id', _uid::text, true),
            pg_catalog.set_config('zkeb.session_checked', _hex, true);
    SELECT u.account_status INTO _status FROM zkeb.users AS u WHERE u.user_id = _uid;
    IF _status IS DISTINCT FROM 'active' THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK403', MESSAGE = 'account is suspended';
    END IF;
    RETURN _uid;
END
$$;

ALTER FUNCTION zkeb_private.begin_session(session_token bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION begin_session(session_token bytea); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.begin_session(session_token bytea) IS 'Make session_token the transaction''s tenant context and return its user id. Errors: ZK401 no valid session; ZK403 account suspended.';

--
-- Name: claimed_user_id(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.claimed_user_id() RETURNS uuid
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.session_token', true);
BEGIN
    -- 96 lower-case hex digits (what begin_session writes), else NULL. A
    -- length test and ltrim() instead of a regular expression: this runs in
    -- the sessions policy, and the regex cost more than the rest together.
    RETURN CASE WHEN pg_catalog.length(_hex) = 96
                     AND pg_catalog.ltrim(_hex, '0123456789abcdef') = ''
                THEN pg_catalog.substr(_hex, 1, 32)::uuid END;
END
$$;

ALTER FUNCTION zkeb_private.claimed_user_id() OWNER TO zkeb_owner;

--
-- Name: FUNCTION claimed_user_id(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.claimed_user_id() IS 'User id claimed by the session token in the transaction context (its first 16 bytes), or NULL; reads no table.';

--
-- Name: current_user_id(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.current_user_id() RETURNS uuid
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.session_token', true);
    _claimed uuid;
    _uid uuid;
BEGIN
    IF _hex IS NULL OR pg_catalog.length(_hex) <> 96 THEN
        RETURN NULL;
    END IF;
    IF _hex = pg_catalog.current_setting('zkeb.session_checked', true) THEN
        RETURN NULLIF(pg_catalog.current_setting('zkeb.session_user_id', true), '')::uuid;
    END IF;
    -- Lower-case hex only (what begin_session writes); no regex, see claimed_user_id.
    IF pg_catalog.ltrim(_hex, '0123456789abcdef') <> '' THEN
        RETURN NULL;
    END IF;
    _claimed := pg_catalog.substr(_hex, 1, 32)::uuid;
    SELECT s.user_id INTO _uid
      FROM zkeb.sessions AS s
     WHERE s.user_id = _claimed
       AND s.token_hash = pg_catalog.sha256(pg_catalog.decode(_hex, 'hex'))
       AND s.revoked_at IS NULL
       AND s.expires_at > pg_catalog.now();
    RETURN _uid;
END
$$;

ALTER FUNCTION zkeb_private.current_user_id() OWNER TO zkeb_owner;

--
-- Name: FUNCTION current_user_id(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.current_user_id() IS 'User id of the valid session whose token is in the transaction context, or NULL (fails closed); within an API call, the session begin_session validated for that token.';

--
-- Name: guard_violations(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.guard_violations() RETURNS TABLE(rule text, object text, detail text)
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    -- The project schemas every rule walks.
    _schemas name[] := ARRAY['zkeb', 'zkeb_api', 'zkeb_private', 'zkeb_maint']::name[];
    -- api.md: what zkeb_app, zkeb_maintainer and zkeb_auditor may EXECUTE.
    _api name[] := ARRAY[
        'prelogin', 'register_user', 'login', 'logout', 'whoami', 'delete_account',
        'register_device', 'revoke_device', 'list_devices',
        'create_backup', 'list_backups', 'get_backup', 'delete_backup',
        'restore_backup', 'purge_backup', 'storage_usage',
        'store_recovery_shares', 'list_recovery_shares',
        'sync_push', 'sync_pull', 'list_audit_events']::name[];
    _maint name[] := ARRAY[
        'cleanup_expired_backups', 'purge_trash', 'purge_expired_sessions',
        'purge_audit_logs', 'set_quota', 'verify_audit_chain',
        'export_audit_checkpoint', 'check_invariants']::name[];
    _audit name[] := ARRAY['verify_audit_chain', 'export_audit_checkpoint']::name[];
    -- Text columns allowed at all, each only with a CHECK to a fixed set of values.
    _text_columns name[] := ARRAY['account_status', 'key_algorithm', 'action']::name[];
    -- Accepted policy atoms (docs/internals.md, "Policies"), as pg_get_expr
    -- prints them with search_path = pg_catalog.
    _cmp_atoms text[] := ARRAY[
        '(user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id))',
        '(user_id = ( SELECT zkeb_private.claimed_user_id() AS claimed_user_id))',
        '(user_id = ( SELECT zkeb_private.lookup_user_id() AS lookup_user_id))',
        '(username_hash = ( SELECT zkeb_private.lookup_username_hash() AS lookup_username_hash))',
        '(user_hash = ANY (( SELECT zkeb_private.audit_context_hashes() AS audit_context_hashes)::bytea[]))',
        '(user_hash = ANY (( SELECT zkeb_private.audit_context_hashes() AS audit_context_hashes)))'];
    _bool_atoms text[] := ARRAY[
        '( SELECT zkeb_private.maintenance_active() AS maintenance_active)',
        '( SELECT zkeb_private.audit_reader_active() AS audit_reader_active)'];
    -- Column names that suggest a secret or plaintext: always refused, and
    -- refused unless the column is a hash (name ending in _hash).
    _secret_re text := '(^|_)(password|passwd|passphrase|secret|secrets|private_key|privkey|priv_key'
        '|secret_key|signing_key|encryption_key|enc_key|master_key|recovery_key|auth_key|session_key'
        '|plaintext|plain_text|cleartext|clear_text|mnemonic|seed_phrase)(_|$)';
    _identity_re text := '(^|_)(username|user_name|login_name|email|e_mail|phone|phone_number|telephone'
        '|mobile|full_name|first_name|last_name|display_name|real_name|given_name|family_name|surname'
        '|birthdate|birth_date|date_of_birth|address|street|postal_code|zip_code|ip|ip_addr|ip_address'
        '|user_agent|token|session_token|access_token|refresh_token|api_key|ssn|file_name|filename'
        '|backup_name|device_name|location|latitude|longitude)(_|$)';
    _nsp oid[];
    _owner oid;
    _app oid;
    _maintainer oid;
    _auditor oid;
    _missing text[];
BEGIN
    -- Roles. Everything else needs them, so stop here when one is missing.
    SELECT pg_catalog.array_agg(r.n ORDER BY r.n) INTO _missing
      FROM pg_catalog.unnest(ARRAY['zkeb_owner', 'zkeb_app', 'zkeb_maintainer', 'zkeb_auditor']) AS r(n)
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS a WHERE a.rolname = r.n);
    IF _missing IS NOT NULL THEN
        RETURN QUERY SELECT 'roles_exist', m, 'role does not exist'
                       FROM pg_catalog.unnest(_missing) AS m;
        RETURN;
    END IF;
    _nsp := ARRAY(SELECT n.oid FROM pg_catalog.pg_namespace AS n WHERE n.nspname = ANY (_schemas));
    SELECT a.oid INTO _owner FROM pg_catalog.pg_roles AS a WHERE a.rolname = 'zkeb_owner';
    SELECT a.oid INTO _app FROM pg_catalog.pg_roles AS a WHERE a.rolname = 'zkeb_app';
    SELECT a.oid INTO _maintainer FROM pg_catalog.pg_roles AS a WHERE a.rolname = 'zkeb_maintainer';
    SELECT a.oid INTO _auditor FROM pg_catalog.pg_roles AS a WHERE a.rolname = 'zkeb_auditor';

    -- The owner's functions must be subject to RLS (FORCE) and unable to
    -- create roles, databases or log in.
    RETURN QUERY
    SELECT 'owner_role_attributes', a.rolname::text,
           'has ' || pg_catalog.concat_ws(', ',
               CASE WHEN a.rolsuper THEN 'SUPERUSER' END,
               CASE WHEN a.rolbypassrls THEN 'BYPASSRLS' END,
               CASE WHEN a.rolcreaterole THEN 'CREATEROLE' END,
               CASE WHEN a.rolcreatedb THEN 'CREATEDB' END,
               CASE WHEN a.rolcanlogin THEN 'LOGIN' END,
               CASE WHEN a.rolreplication THEN 'REPLICATION' END)
      FROM pg_catalog.pg_roles AS a
     WHERE a.oid = _owner
       AND (a.rolsuper OR a.rolbypassrls OR a.rolcreaterole OR a.rolcreatedb
            OR a.rolcanlogin OR a.rolreplication);

    RETURN QUERY
    SELECT 'group_role_attributes', a.rolname::text,
           'has ' || pg_catalog.concat_ws(', ',
               CASE WHEN a.rolsuper THEN 'SUPERUSER' END,
               CASE WHEN a.rolbypassrls THEN 'BYPASSRLS' END,
               CASE WHEN a.rolcreaterole THEN 'CREATEROLE' END,
               CASE WHEN a.rolcreatedb THEN 'CREATEDB' END,
               CASE WHEN a.rolcanlogin THEN 'LOGIN' END,
               CASE WHEN a.rolreplication THEN 'REPLICATION' END)
      FROM pg_catalog.pg_roles AS a
     WHERE a.oid IN (_app, _maintainer, _auditor)
       AND (a.rolsuper OR a.rolbypassrls OR a.rolcreaterole OR a.rolcreatedb
            OR a.rolcanlogin OR a.rolreplication);

    -- Nobody who holds an application, maintenance or audit role may become
    -- the owner (SET ROLE zkeb_owner would skip every API function).
    RETURN QUERY
    SELECT 'role_membership', a.rolname::text,
           'can become zkeb_owner while holding ' || pg_catalog.concat_ws(', ',
               CASE WHEN pg_catalog.pg_has_role(a.oid, _app, 'MEMBER') THEN 'zkeb_app' END,
               CASE WHEN pg_catalog.pg_has_role(a.oid, _maintainer, 'MEMBER') THEN 'zkeb_maintainer' END,
               CASE WHEN pg_catalog.pg_has_role(a.oid, _auditor, 'MEMBER') THEN 'zkeb_auditor' END)
      FROM pg_catalog.pg_roles AS a
     WHERE NOT a.rolsuper
       AND a.oid <> _owner
       AND pg_catalog.pg_has_role(a.oid, _owner, 'MEMBER')
       AND (pg_catalog.pg_has_role(a.oid, _app, 'MEMBER')
            OR pg_catalog.pg_has_role(a.oid, _maintainer, 'MEMBER')
            OR pg_catalog.pg_has_role(a.oid, _auditor, 'MEMBER'));

    -- A stored default would give every session a tenant context, turn row
    -- security off, or change name resolution.
    RETURN QUERY
    SELECT 'role_settings',
           CASE WHEN s.setrole = 0 AND s.setdatabase = 0 THEN 'all roles'
                WHEN s.setrole = 0 THEN 'database ' || pg_catalog.quote_ident(d.datname)
                WHEN s.setdatabase = 0 THEN 'role ' || pg_catalog.quote_ident(a.rolname)
                ELSE 'role ' || pg_catalog.quote_ident(a.rolname)
                     || ' in database ' || pg_catalog.quote_ident(d.datname) END,
           'stored default ' || c.cfg
      FROM pg_catalog.pg_db_role_setting AS s
      CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS c(cfg)
      LEFT JOIN pg_catalog.pg_roles AS a ON a.oid = s.setrole
      LEFT JOIN pg_catalog.pg_database AS d ON d.oid = s.setdatabase
     WHERE s.setdatabase IN (0, (SELECT x.oid FROM pg_catalog.pg_database AS x
                                  WHERE x.datname = pg_catalog.current_database()))
       AND (pg_catalog.lower(c.cfg) LIKE 'zkeb.%'
            OR pg_catalog.lower(c.cfg) LIKE 'row\_security=%'
            OR pg_catalog.lower(c.cfg) LIKE 'search\_path=%');

    -- zkeb_app: no CREATE and no TEMP on the database.
    RETURN QUERY
    SELECT 'app_database_privileges', 'database ' || pg_catalog.quote_ident(pg_catalog.current_database()),
           'zkeb_app has ' || p.priv
      FROM pg_catalog.unnest(ARRAY['CREATE', 'TEMPORARY']) AS p(priv)
     WHERE pg_catalog.has_database_privilege(_app, pg_catalog.current_database(), p.priv);

    -- zkeb_app: CREATE in no schema, USAGE on zkeb_api and on no other schema
    -- but public (where PostgreSQL grants it to PUBLIC, and which holds nothing
    -- zkeb_app may use: see relation_privileges and app_execute).
    RETURN QUERY
    SELECT 'app_schema_privileges', pg_catalog.quote_ident(n.nspname), 'zkeb_app has CREATE'
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND pg_catalog.has_schema_privilege(_app, n.oid, 'CREATE')
    UNION ALL
    SELECT 'app_schema_privileges', pg_catalog.quote_ident(n.nspname), 'zkeb_app has USAGE'
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public', 'zkeb_api')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND pg_catalog.has_schema_privilege(_app, n.oid, 'USAGE')
    UNION ALL
    SELECT 'app_schema_privileges', 'zkeb_api', 'zkeb_app lacks USAGE'
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname = 'zkeb_api'
       AND NOT pg_catalog.has_schema_privilege(_app, n.oid, 'USAGE');

    -- Project schemas: only the owner, zkeb_app on zkeb_api and the
    -- maintenance roles on zkeb_maint hold anything, and only USAGE. PUBLIC
    -- cannot CREATE in public either.
    RETURN QUERY
    SELECT 'schema_privileges', pg_catalog.quote_ident(n.nspname),
           pg_catalog.format('%s granted to %s',
               x.privilege_type,
               CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END)
      FROM pg_catalog.pg_namespace AS n
      CROSS JOIN LATERAL pg_catalog.aclexplode(
          COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) AS x
     WHERE n.nspname = ANY (_schemas)
       AND x.grantee <> _owner
       AND NOT (x.privilege_type = 'USAGE'
                AND ((n.nspname = 'zkeb_api' AND x.grantee = _app)
                     OR (n.nspname = 'zkeb_maint' AND x.grantee IN (_maintainer, _auditor))))
    UNION ALL
    SELECT 'schema_privileges', 'public', 'PUBLIC can CREATE'
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname = 'public'
       AND pg_catalog.has_schema_privilege('public', n.oid, 'CREATE');

    -- zkeb_owner owns every schema, relation, function and type.
    RETURN QUERY
    SELECT 'ownership', pg_catalog.quote_ident(n.nspname),
           'schema owned by ' || pg_catalog.pg_get_userbyid(n.nspowner)
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname = ANY (_schemas) AND n.nspowner <> _owner
    UNION ALL
    SELECT 'ownership', c.oid::regclass::text,
           'relation owned by ' || pg_catalog.pg_get_userbyid(c.relowner)
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relowner <> _owner
    UNION ALL
    SELECT 'ownership', p.oid::regprocedure::text,
           'function owned by ' || pg_catalog.pg_get_userbyid(p.proowner)
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp) AND p.proowner <> _owner
    UNION ALL
    SELECT 'ownership', t.oid::regtype::text,
           'type owned by ' || pg_catalog.pg_get_userbyid(t.typowner)
      FROM pg_catalog.pg_type AS t
      JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
     WHERE t.typnamespace = ANY (_nsp) AND t.typowner <> _owner;

    -- Default privileges: the global entry of zkeb_owner revokes EXECUTE from
    -- PUBLIC, and no default ACL hands anything to PUBLIC or table and
    -- sequence privileges to zkeb_app.
    RETURN QUERY
    SELECT 'default_privileges', 'zkeb_owner',
           'no global default ACL revoking EXECUTE on functions from PUBLIC'
     WHERE NOT EXISTS (
         SELECT 1 FROM pg_catalog.pg_default_acl AS d
          WHERE d.defaclrole = _owner AND d.defaclnamespace = 0 AND d.defaclobjtype = 'f'
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(d.defaclacl) AS x
                             WHERE x.grantee = 0))
    UNION ALL
    SELECT 'default_privileges',
           pg_catalog.pg_get_userbyid(d.defaclrole)
           || CASE WHEN d.defaclnamespace = 0 THEN ''
                   ELSE ' in schema ' || d.defaclnamespace::regnamespace::text END,
           pg_catalog.format('default %s on %s for %s',
               x.privilege_type,
               CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                    WHEN 'f' THEN 'functions' WHEN 'n' THEN 'schemas' ELSE 'types' END,
               CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE 'zkeb_app' END)
      FROM pg_catalog.pg_default_acl AS d
      CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) AS x
     WHERE (x.grantee = 0 AND d.defaclobjtype IN ('r', 'S', 'f', 'n'))
        OR (x.grantee = _app AND d.defaclobjtype IN ('r', 'S', 'n'));

    -- No extension objects in the project schemas or public.
    RETURN QUERY
    SELECT 'extensions', e.extname::text,
           'extension installed in schema ' || e.extnamespace::regnamespace::text
      FROM pg_catalog.pg_extension AS e
      JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
     WHERE e.extnamespace = ANY (_nsp) OR n.nspname = 'public';

    -- Every table and partition: RLS enabled and forced, with policies.
    RETURN QUERY
    SELECT 'rls_forced', c.oid::regclass::text,
           CASE WHEN NOT c.relrowsecurity THEN 'row level security is not enabled'
                ELSE 'row level security is not forced' END
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
       AND NOT (c.relrowsecurity AND c.relforcerowsecurity);

    RETURN QUERY
    SELECT 'rls_policies', c.oid::regclass::text, 'table has no policy'
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid);

    -- zkeb_app holds no privilege on any table, partition, view, sequence or
    -- column anywhere; in the project schemas nobody but the owner holds one.
    RETURN QUERY
    SELECT 'relation_privileges', c.oid::regclass::text,
           'zkeb_app has privileges on this ' || CASE c.relkind WHEN 'S' THEN 'sequence'
               WHEN 'v' THEN 'view' WHEN 'f' THEN 'foreign table' ELSE 'table' END
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND c.relkind IN ('r', 'p', 'v', 'f', 'S')
       AND CASE WHEN c.relkind = 'S'
                THEN pg_catalog.has_sequence_privilege(_app, c.oid, 'USAGE,SELECT,UPDATE')
                ELSE pg_catalog.has_table_privilege(_app, c.oid,
                         'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
                     OR pg_catalog.has_any_column_privilege(_app, c.oid,
                         'SELECT,INSERT,UPDATE,REFERENCES') END
    UNION ALL
    SELECT 'relation_privileges', c.oid::regclass::text,
           pg_catalog.format('%s granted to %s', x.privilege_type,
               CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END)
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) AS x
     WHERE c.relnamespace = ANY (_nsp) AND x.grantee <> c.relowner
    UNION ALL
    SELECT 'relation_privileges', pg_catalog.format('%s.%I', c.oid::regclass, a.attname),
           pg_catalog.format('column %s granted to %s', x.privilege_type,
               CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END)
      FROM pg_catalog.pg_attribute AS a
      JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) AS x
     WHERE c.relnamespace = ANY (_nsp) AND NOT a.attisdropped AND x.grantee <> c.relowner;

    -- Materialized views have no row level security.
    RETURN QUERY
    SELECT 'materialized_views', c.oid::regclass::text,
           'materialized view readable by ' || CASE
               WHEN pg_catalog.has_table_privilege('public', c.oid, 'SELECT') THEN 'PUBLIC'
               ELSE 'zkeb_app' END
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relkind = 'm'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND (pg_catalog.has_table_privilege(_app, c.oid, 'SELECT')
            OR pg_catalog.has_table_privilege('public', c.oid, 'SELECT'));

    -- Rules rewrite queries behind the policies' back.
    RETURN QUERY
    SELECT 'rules', pg_catalog.format('%s.%I', c.oid::regclass, r.rulename),
           'user-defined rule'
      FROM pg_catalog.pg_rewrite AS r
      JOIN pg_catalog.pg_class AS c ON c.oid = r.ev_class
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND r.rulename <> '_RETURN';

    -- Policies: TO zkeb_owner only.
    RETURN QUERY
    SELECT 'policy_roles', pg_catalog.format('%s.%I', c.oid::regclass, p.polname),
           'policy applies to ' || pg_catalog.array_to_string(ARRAY(
               SELECT CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(r.oid) END
                 FROM pg_catalog.unnest(p.polroles) AS r(oid) ORDER BY 1), ', ')
      FROM pg_catalog.pg_policy AS p
      JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp)
       AND p.polroles IS DISTINCT FROM ARRAY[_owner]::oid[];

    -- Policies: UPDATE and ALL carry an explicit WITH CHECK.
    RETURN QUERY
    SELECT 'policy_with_check', pg_catalog.format('%s.%I', c.oid::regclass, p.polname),
           'UPDATE/ALL policy without WITH CHECK'
      FROM pg_catalog.pg_policy AS p
      JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND p.polcmd IN ('w', '*') AND p.polwithcheck IS NULL;

    -- Policies: named <table>_<command>_<branch>.
    RETURN QUERY
    SELECT 'policy_naming', pg_catalog.format('%s.%I', c.oid::regclass, p.polname),
           pg_catalog.format('expected %s_%s_<own|claimed|lookup|register|maint|audit|owner>',
               c.relname, CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'
                   WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END)
      FROM pg_catalog.pg_policy AS p
      JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp)
       AND NOT (p.polname::text = ANY (ARRAY(
           SELECT c.relname || '_'
                  || CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'
                         WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END
                  || '_' || b.branch
             FROM pg_catalog.unnest(ARRAY['own', 'claimed', 'lookup', 'register', 'maint',
                                          'audit', 'owner']) AS b(branch))));

    -- Policies: every USING / WITH CHECK is one accepted shape: a tenant
    -- column compared with a helper in a (SELECT ...) initPlan, a context
    -- helper in a (SELECT ...), or an OR of comparisons. No bare helper, no
    -- current_setting, no IS NULL OR, no constant true. The one allowlisted
    -- exception is settings_select_owner, pinned to its exact expression.
    RETURN QUERY
    WITH e AS (
        SELECT c.oid AS relid, p.polname, n.nspname, c.relname, k.clause,
               pg_catalog.regexp_replace(pg_catalog.pg_get_expr(k.expr, c.oid), '\s+', ' ', 'g') AS txt
          FROM pg_catalog.pg_policy AS p
          JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
          CROSS JOIN LATERAL (VALUES ('USING', p.polqual), ('WITH CHECK', p.polwithcheck)) AS k(clause, expr)
         WHERE c.relnamespace = ANY (_nsp) AND k.expr IS NOT NULL
    )
    SELECT 'policy_shape', pg_catalog.format('%s.%I', e.relid::regclass, e.polname),
           pg_catalog.format('%s %s is not an accepted shape', e.clause, e.txt)
      FROM e
     WHERE NOT (e.txt = ANY (_cmp_atoms) OR e.txt = ANY (_bool_atoms))
       AND NOT (e.txt LIKE '(%)' AND e.txt LIKE '% OR %'
                AND (SELECT pg_catalog.bool_and(d = ANY (_cmp_atoms))
                       FROM pg_catalog.unnest(pg_catalog.string_to_array(
                                pg_catalog.substr(e.txt, 2, pg_catalog.length(e.txt) - 2), ' OR ')) AS d))
       AND NOT (e.nspname = 'zkeb_private' AND e.relname = 'settings'
                AND e.polname = 'settings_select_owner' AND e.clause = 'USING'
                AND e.txt = '(CURRENT_USER = ''zkeb_owner''::name)');

    -- Policies: the commands without USING or WITH CHECK that need one.
    RETURN QUERY
    SELECT 'policy_shape', pg_catalog.format('%s.%I', c.oid::regclass, p.polname),
           CASE WHEN p.polqual IS NULL THEN 'no USING expression' ELSE 'no WITH CHECK expression' END
      FROM pg_catalog.pg_policy AS p
      JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp)
       AND ((p.polcmd IN ('r', 'd', 'w', '*') AND p.polqual IS NULL)
            OR (p.polcmd = 'a' AND p.polwithcheck IS NULL));

    -- Functions: nothing executable by PUBLIC (a NULL ACL is the default,
    -- which grants EXECUTE to PUBLIC).
    RETURN QUERY
    SELECT 'function_public_execute', p.oid::regprocedure::text, 'PUBLIC can EXECUTE'
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp)
       AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(
                       COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) AS x
                    WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE');

    -- Functions: EXECUTE granted to nobody outside the four project roles.
    RETURN QUERY
    SELECT 'function_grantees', p.oid::regprocedure::text,
           'EXECUTE granted to ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee))
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) AS x
     WHERE p.pronamespace = ANY (_nsp)
       AND x.grantee NOT IN (0, _owner, _app, _maintainer, _auditor);

    -- zkeb_app, zkeb_maintainer, zkeb_auditor: EXECUTE exactly their
    -- allowlist from api.md, missing and extra both fail, one function per name.
    RETURN QUERY
    WITH lists(rule, role_oid, role_name, schema_name, names) AS (
        VALUES ('app_execute', _app, 'zkeb_app', 'zkeb_api'::name, _api),
               ('maintainer_execute', _maintainer, 'zkeb_maintainer', 'zkeb_maint'::name, _maint),
               ('auditor_execute', _auditor, 'zkeb_auditor', 'zkeb_maint'::name, _audit)
    ), procs AS MATERIALIZED (
        -- every function outside the system schemas (a few hundred at most)
        SELECT p.oid, p.proname, n.nspname
          FROM pg_catalog.pg_proc AS p
          JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
    )
    SELECT l.rule, p.oid::regprocedure::text, l.role_name || ' can EXECUTE it but it is not on its allowlist'
      FROM lists AS l
      CROSS JOIN procs AS p
     WHERE pg_catalog.has_function_privilege(l.role_oid, p.oid, 'EXECUTE')
       AND NOT (p.nspname = l.schema_name AND p.proname = ANY (l.names))
    UNION ALL
    SELECT l.rule, l.schema_name || '.' || f.name,
           CASE WHEN NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_proc AS p
                      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
                     WHERE n.nspname = l.schema_name AND p.proname = f.name)
                THEN 'allowlisted function does not exist'
                ELSE l.role_name || ' cannot EXECUTE this allowlisted function' END
      FROM lists AS l
      CROSS JOIN LATERAL pg_catalog.unnest(l.names) AS f(name)
     WHERE NOT EXISTS (
         SELECT 1 FROM pg_catalog.pg_proc AS p
           JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
          WHERE n.nspname = l.schema_name AND p.proname = f.name
            AND pg_catalog.has_function_privilege(l.role_oid, p.oid, 'EXECUTE'))
    UNION ALL
    SELECT 'app_execute', p.oid::regprocedure::text, 'overloaded API function (no overloads allowed)'
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE n.nspname IN ('zkeb_api', 'zkeb_maint')
       AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc AS q
             WHERE q.pronamespace = p.pronamespace AND q.proname = p.proname) > 1;

    -- SECURITY DEFINER functions: owned by zkeb_owner (never a superuser or
    -- a BYPASSRLS role) and pinned to exactly pg_catalog, pg_temp.
    RETURN QUERY
    SELECT 'definer_owner', p.oid::regprocedure::text,
           'SECURITY DEFINER function owned by ' || pg_catalog.pg_get_userbyid(p.proowner)
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp) AND p.prosecdef AND p.proowner <> _owner;

    RETURN QUERY
    SELECT CASE WHEN p.prosecdef THEN 'definer_search_path' ELSE 'function_search_path' END,
           p.oid::regprocedure::text,
           pg_catalog.format('%s function not pinned to search_path=pg_catalog, pg_temp (config: %s)',
               CASE WHEN p.prosecdef THEN 'SECURITY DEFINER' ELSE 'SECURITY INVOKER' END,
               COALESCE(pg_catalog.array_to_string(p.proconfig, '; '), 'none'))
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp)
       AND NOT ('search_path=pg_catalog, pg_temp' = ANY (COALESCE(p.proconfig, '{}'::text[])));

    -- A function must not carry a tenant context or switch row security off.
    RETURN QUERY
    SELECT 'function_config', p.oid::regprocedure::text, 'function sets ' || c.cfg
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      CROSS JOIN LATERAL pg_catalog.unnest(p.proconfig) AS c(cfg)
     WHERE p.pronamespace = ANY (_nsp)
       AND (pg_catalog.lower(c.cfg) LIKE 'zkeb.%' OR pg_catalog.lower(c.cfg) LIKE 'row\_security=%');

    -- LEAKPROOF lets a function run before the policies' quals.
    RETURN QUERY
    SELECT 'leakproof', p.oid::regprocedure::text, 'function is LEAKPROOF'
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp) AND p.proleakproof;

    -- Columns: no name that suggests a secret or a plaintext identifier.
    RETURN QUERY
    SELECT 'secret_columns', pg_catalog.format('%s.%I', c.oid::regclass, a.attname),
           'column name suggests a secret or plaintext'
      FROM pg_catalog.pg_attribute AS a
      JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND a.attnum > 0 AND NOT a.attisdropped
       AND (pg_catalog.lower(a.attname) ~ _secret_re
            OR (pg_catalog.lower(a.attname) ~ _identity_re AND pg_catalog.lower(a.attname) !~ '_hash$'));

    -- Columns: ciphertext, nonces, tags, signatures, hashes, keys, salts,
    -- verifiers are BYTEA with a validated length CHECK on that column
    -- (nonce 12, auth tag 16, *_hash 32 bytes).
    RETURN QUERY
    WITH cols AS (
        SELECT c.oid AS relid, a.attnum, a.attname, a.atttypid,
               pg_catalog.lower(a.attname) AS lname,
               pg_catalog.regexp_replace(pg_catalog.quote_ident(a.attname), '([^[:alnum:]_])', '\\\1', 'g') AS re
          FROM pg_catalog.pg_attribute AS a
          JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
         WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
           AND a.attnum > 0 AND NOT a.attisdropped
           AND pg_catalog.lower(a.attname) ~ '((^|_)(ciphertext|nonce|tag|signature|hash|key|salt|verifier|pepper)$|^encrypted_)'
    ), checked AS (
        SELECT k.*,
               CASE WHEN k.lname ~ '(^|_)nonce$' THEN 12
                    WHEN k.lname ~ '(^|_)tag$' THEN 16
                    WHEN k.lname ~ '(^|_)hash$' THEN 32 END AS want,
               (SELECT pg_catalog.array_agg(pg_catalog.pg_get_constraintdef(o.oid))
                  FROM pg_catalog.pg_constraint AS o
                 WHERE o.conrelid = k.relid AND o.contype = 'c' AND o.convalidated
                   AND k.attnum = ANY (o.conkey)) AS defs
          FROM cols AS k
    )
    SELECT 'bytea_columns', pg_catalog.format('%s.%I', k.relid::regclass, k.attname),
           CASE WHEN k.atttypid <> 'pg_catalog.bytea'::pg_catalog.regtype
                    THEN 'column is ' || pg_catalog.format_type(k.atttypid, NULL) || ', not bytea'
                WHEN k.want IS NULL THEN 'no validated CHECK on octet_length(' || k.attname || ')'
                ELSE pg_catalog.format('no validated CHECK octet_length(%s) = %s', k.attname, k.want) END
      FROM checked AS k
     WHERE k.atttypid <> 'pg_catalog.bytea'::pg_catalog.regtype
        OR NOT EXISTS (
            SELECT 1 FROM pg_catalog.unnest(k.defs) AS d(def)
             WHERE CASE WHEN k.want IS NULL
                        THEN d.def ~ ('octet_length\(' || k.re || '\)')
                        ELSE d.def ~ ('octet_length\(' || k.re || '\) = ' || k.want || '\M') END);

    -- Columns: no text-like column (text, varchar, char, name, arrays or
    -- domains of them) but a short allowlist, each held to a fixed set of
    -- values by a single-column validated CHECK.
    RETURN QUERY
    WITH cols AS (
        SELECT c.oid AS relid, a.attnum, a.attname,
               pg_catalog.regexp_replace(pg_catalog.quote_ident(a.attname), '([^[:alnum:]_])', '\\\1', 'g') AS re,
               COALESCE(NULLIF(b.typelem, 0), b.oid) AS elem
          FROM pg_catalog.pg_attribute AS a
          JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
          JOIN pg_catalog.pg_type AS b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
         WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
           AND a.attnum > 0 AND NOT a.attisdropped
    )
    SELECT 'text_columns', pg_catalog.format('%s.%I', k.relid::regclass, k.attname),
           CASE WHEN NOT (k.attname = ANY (_text_columns))
                    THEN 'text-like column outside the allowlist (' || pg_catalog.format_type(k.elem, NULL) || ')'
                ELSE 'allowlisted text column without a CHECK to a fixed set of values' END
      FROM cols AS k
      JOIN pg_catalog.pg_type AS et ON et.oid = k.elem
     WHERE et.typcategory = 'S'
       AND NOT (k.attname = ANY (_text_columns)
                AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_constraint AS o
                     WHERE o.conrelid = k.relid AND o.contype = 'c' AND o.convalidated
                       AND o.conkey = ARRAY[k.attnum]::int2[]
                       AND pg_catalog.pg_get_constraintdef(o.oid) ~ (
                           '^CHECK \(\(\(?' || k.re || '\)?(::text)? = ANY \(\(?ARRAY\['
                           || '''([^'']|'''')*''::[a-z ]+(, ''([^'']|'''')*''::[a-z ]+)*'
                           || '\]\)?(::text\[\])?\)\)\)$')));

    -- Columns: JSON is bounded by a validated CHECK on the column.
    RETURN QUERY
    SELECT 'json_columns', pg_catalog.format('%s.%I', c.oid::regclass, a.attname),
           'json column without a validated CHECK bounding it'
      FROM pg_catalog.pg_attribute AS a
      JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
       AND a.attnum > 0 AND NOT a.attisdropped
       AND a.atttypid IN ('pg_catalog.json'::pg_catalog.regtype, 'pg_catalog.jsonb'::pg_catalog.regtype)
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS o
                        WHERE o.conrelid = c.oid AND o.contype = 'c' AND o.convalidated
                          AND a.attnum = ANY (o.conkey));

    -- Tenancy keys. Tenant tables: every table in zkeb, and any project table
    -- with a user_id column. user_id (NOT NULL) leads every primary key,
    -- unique key or index, exclusion constraint and foreign key, and leads an
    -- index. Exactly two exceptions: the global unique users(username_hash),
    -- and audit_logs (and its partitions), keyed by the pseudonymised
    -- user_hash, which has no user_id at all.
    RETURN QUERY
    WITH t AS (
        SELECT c.oid AS relid,
               (rn.nspname = 'zkeb' AND rc.relname = 'audit_logs') AS is_audit,
               ua.attnum AS uid_attnum, ua.attnotnull AS uid_notnull,
               ha.attnum AS hash_attnum
          FROM pg_catalog.pg_class AS c
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_class AS rc
            ON rc.oid = COALESCE(pg_catalog.pg_partition_root(c.oid), c.oid)
          JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace
          LEFT JOIN pg_catalog.pg_attribute AS ua
            ON ua.attrelid = c.oid AND ua.attname = 'user_id' AND NOT ua.attisdropped
          LEFT JOIN pg_catalog.pg_attribute AS ha
            ON ha.attrelid = c.oid AND ha.attname = 'user_hash' AND NOT ha.attisdropped
         WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
           AND (n.nspname = 'zkeb' OR ua.attnum IS NOT NULL)
    )
    SELECT 'tenant_user_id', t.relid::regclass::text,
           CASE WHEN t.is_audit THEN 'audit_logs must not carry user_id (it is keyed by user_hash)'
                WHEN t.uid_attnum IS NULL THEN 'tenant table without a user_id column'
                ELSE 'user_id is nullable' END
      FROM t
     WHERE (t.is_audit AND t.uid_attnum IS NOT NULL)
        OR (NOT t.is_audit AND (t.uid_attnum IS NULL OR NOT t.uid_notnull))
    UNION ALL
    SELECT 'tenant_unique_keys', i.indexrelid::regclass::text,
           pg_catalog.format('%s not led by %s: %s',
               CASE WHEN i.indisexclusion THEN 'exclusion constraint'
                    WHEN i.indisprimary THEN 'primary key' ELSE 'unique key' END,
               CASE WHEN t.is_audit THEN 'user_hash' ELSE 'user_id' END,
               pg_catalog.pg_get_indexdef(i.indexrelid))
      FROM t
      JOIN pg_catalog.pg_index AS i ON i.indrelid = t.relid
     WHERE (i.indisunique OR i.indisexclusion)
       AND i.indkey[0] IS DISTINCT FROM CASE WHEN t.is_audit THEN t.hash_attnum ELSE t.uid_attnum END
       AND NOT (t.relid = (SELECT x.oid FROM pg_catalog.pg_class AS x
                             JOIN pg_catalog.pg_namespace AS y ON y.oid = x.relnamespace
                            WHERE y.nspname = 'zkeb' AND x.relname = 'users')
                AND i.indisunique AND NOT i.indisexclusion AND i.indpred IS NULL
                AND i.indnkeyatts = 1 AND i.indnatts = 1
                AND i.indkey[0] = (SELECT a.attnum FROM pg_catalog.pg_attribute AS a
                                    WHERE a.attrelid = t.relid AND a.attname = 'username_hash'))
    UNION ALL
    SELECT 'tenant_index', t.relid::regclass::text,
           'no index led by ' || CASE WHEN t.is_audit THEN 'user_hash' ELSE 'user_id' END
      FROM t
     WHERE NOT EXISTS (
         SELECT 1 FROM pg_catalog.pg_index AS i
          WHERE i.indrelid = t.relid
            AND i.indkey[0] = CASE WHEN t.is_audit THEN t.hash_attnum ELSE t.uid_attnum END)
    UNION ALL
    SELECT 'tenant_foreign_keys', pg_catalog.format('%s.%I', o.conrelid::regclass, o.conname),
           'foreign key not led by user_id referencing user_id: ' || pg_catalog.pg_get_constraintdef(o.oid)
      FROM pg_catalog.pg_constraint AS o
      JOIN pg_catalog.pg_class AS c ON c.oid = o.conrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE o.contype = 'f'
       AND (c.relnamespace = ANY (_nsp)
            OR o.confrelid IN (SELECT t.relid FROM t))
       AND NOT (
           (SELECT a.attname FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = o.conrelid AND a.attnum = o.conkey[1]) = 'user_id'
           AND (SELECT a.attname FROM pg_catalog.pg_attribute AS a
                 WHERE a.attrelid = o.confrelid AND a.attnum = o.confkey[1]) = 'user_id');

    -- The audit log is append-only even for the owner: enabled BEFORE
    -- triggers refuse UPDATE, DELETE (outside retention) and TRUNCATE.
    RETURN QUERY
    SELECT 'audit_append_only', 'zkeb.audit_logs',
           'no enabled BEFORE trigger covering ' || w.what
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      CROSS JOIN (VALUES ('UPDATE', 16), ('DELETE', 8), ('TRUNCATE', 32)) AS w(what, bit)
     WHERE n.nspname = 'zkeb' AND c.relname = 'audit_logs'
       AND NOT EXISTS (
           SELECT 1 FROM pg_catalog.pg_trigger AS g
            WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND g.tgenabled IN ('O', 'A')
              AND (g.tgtype & 2) <> 0 AND (g.tgtype & w.bit) <> 0);
END
$_$;

ALTER FUNCTION zkeb_private.guard_violations() OWNER TO zkeb_owner;

--
-- Name: FUNCTION guard_violations(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.guard_violations() IS 'The zero-knowledge and tenancy catalog rules: one row (rule, object, detail) per violation, none when sound. Run by zkeb-db check and by this change''s verify script.';

--
-- Name: hmac_pad(bytea, integer); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.hmac_pad(key bytea, pad integer) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _hex text;
    _mask bigint;
BEGIN
    IF hmac_pad.pad NOT BETWEEN 0 AND 255 THEN
        RAISE EXCEPTION USING ERRCODE = 'ZK422', MESSAGE = 'pad must be a byte (0 to 255)';
    END IF;
    -- Keys longer than the 64-byte block are hashed first; shorter ones are
    -- padded with zero bytes.
    _hex := pg_catalog.rpad(pg_catalog.encode(
                CASE WHEN pg_catalog.octet_length(hmac_pad.key) > 64
                     THEN pg_catalog.sha256(hmac_pad.key) ELSE hmac_pad.key END, 'hex'),
            128, '0');
    _mask := ('x' || pg_catalog.repeat(pg_catalog.lpad(pg_catalog.to_hex(hmac_pad.pad), 2, '0'), 8))::bit(64)::bigint;
    RETURN pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 1, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 17, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 33, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 49, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 65, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 81, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 97, 16))::bit(64)::bigint # _mask)
        || pg_catalog.int8send(('x' || pg_catalog.substr(_hex, 113, 16))::bit(64)::bigint # _mask);
END
$$;

ALTER FUNCTION zkeb_private.hmac_pad(key bytea, pad integer) OWNER TO zkeb_owner;

--
-- Name: FUNCTION hmac_pad(key bytea, pad integer); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.hmac_pad(key bytea, pad integer) IS 'HMAC-SHA256 block key (key hashed when longer than 64 bytes, zero-padded to 64) XOR the byte pad repeated: 54 (0x36) gives the inner key, 92 (0x5c) the outer. Errors: ZK422 pad is not a byte.';

--
-- Name: hmac_sha256(bytea, bytea); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.hmac_sha256(key bytea, msg bytea) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RETURN pg_catalog.sha256(zkeb_private.hmac_pad(hmac_sha256.key, 92)
                             || pg_catalog.sha256(zkeb_private.hmac_pad(hmac_sha256.key, 54)
                                                  || hmac_sha256.msg));
END
$$;

ALTER FUNCTION zkeb_private.hmac_sha256(key bytea, msg bytea) OWNER TO zkeb_owner;

--
-- Name: FUNCTION hmac_sha256(key bytea, msg bytea); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.hmac_sha256(key bytea, msg bytea) IS 'HMAC-SHA256 (RFC 2104) of msg under key.';

--
-- Name: lookup_user_id(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.lookup_user_id() RETURNS uuid
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _txt text := pg_catalog.current_setting('zkeb.lookup_user_id', true);
BEGIN
    RETURN CASE WHEN pg_catalog.length(_txt) = 36
                     AND pg_catalog.translate(_txt, '0123456789abcdef', '0000000000000000')
                         = '00000000-0000-0000-0000-000000000000'
                THEN _txt::uuid END;
END
$$;

ALTER FUNCTION zkeb_private.lookup_user_id() OWNER TO zkeb_owner;

--
-- Name: FUNCTION lookup_user_id(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.lookup_user_id() IS 'User id of the pre-session lookup context, or NULL.';

--
-- Name: lookup_username_hash(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.lookup_username_hash() RETURNS bytea
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _hex text := pg_catalog.current_setting('zkeb.lookup_username_hash', true);
BEGIN
    RETURN CASE WHEN pg_catalog.length(_hex) = 64
                     AND pg_catalog.ltrim(_hex, '0123456789abcdef') = ''
                THEN pg_catalog.decode(_hex, 'hex') END;
END
$$;

ALTER FUNCTION zkeb_private.lookup_username_hash() OWNER TO zkeb_owner;

--
-- Name: FUNCTION lookup_username_hash(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.lookup_username_hash() IS 'Username hash of the pre-session lookup context, or NULL.';

--
-- Name: maintenance_active(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.maintenance_active() RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RETURN pg_catalog.current_setting('zkeb.maintenance', true) IS NOT DISTINCT FROM 'on'
       AND pg_catalog.pg_has_role(session_user, 'zkeb_maintainer', 'MEMBER');
END
$$;

ALTER FUNCTION zkeb_private.maintenance_active() OWNER TO zkeb_owner;

--
-- Name: FUNCTION maintenance_active(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.maintenance_active() IS 'True inside a maintenance context opened by a member of zkeb_maintainer.';

--
-- Name: purge_backups(boolean, timestamp with time zone, integer); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.purge_backups(expired boolean, cutoff timestamp with time zone, batch_size integer) RETURNS TABLE(deleted_count bigint, bytes_freed bigint)
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    _uids uuid[];
    _tids tid[];
    _locked uuid[];
BEGIN
    IF purge_backups.expired THEN
        SELECT pg_catalog.array_agg(c.user_id), pg_catalog.array_agg(c.ctid)
          INTO _uids, _tids
          FROM (SELECT b.user_id, b.ctid
                  FROM zkeb.encrypted_backups AS b
                 WHERE b.expires_at <= purge_backups.cutoff
                 ORDER BY b.expires_at
                 LIMIT purge_backups.batch_size
                   FOR UPDATE SKIP LOCKED) AS c;
    ELSE
        SELECT pg_catalog.array_agg(c.user_id), pg_catalog.array_agg(c.ctid)
          INTO _uids, _tids
          FROM (SELECT b.user_id, b.ctid
                  FROM zkeb.encrypted_backups AS b
                 WHERE b.deleted_at <= purge_backups.cutoff
                 ORDER BY b.deleted_at
                 LIMIT purge_backups.batch_size
                   FOR UPDATE SKIP LOCKED) AS c;
    END IF;
    IF _uids IS NULL THEN
        RETURN QUERY SELECT 0::bigint, 0::bigint;
        RETURN;
    END IF;

    SELECT pg_catalog.array_agg(l.user_id)
      INTO _locked
      FROM (SELECT u.user_id
              FROM zkeb.users AS u
             WHERE u.user_id = ANY (_uids)
             ORDER BY u.user_id
               FOR UPDATE SKIP LOCKED) AS l;

    RETURN QUERY
    WITH gone AS (
        DELETE FROM zkeb.encrypted_backups AS b
         WHERE b.ctid = ANY (_tids)
           AND b.user_id = ANY (_locked)
        RETURNING b.user_id, b.size_bytes
    ), per_user AS (
        SELECT g.user_id, pg_catalog.count(*) AS n, pg_catalog.sum(g.size_bytes)::bigint AS freed
          FROM gone AS g
         GROUP BY g.user_id
    ), given_back AS (
        UPDATE zkeb.users AS u
           SET storage_used_bytes = u.storage_used_bytes - p.freed
          FROM per_user AS p
         WHERE u.user_id = p.user_id
        RETURNING p.n, p.freed
    )
    SELECT COALESCE(pg_catalog.sum(g.n), 0)::bigint, COALESCE(pg_catalog.sum(g.freed), 0)::bigint
      FROM given_back AS g;
END
$$;

ALTER FUNCTION zkeb_private.purge_backups(expired boolean, cutoff timestamp with time zone, batch_size integer) OWNER TO zkeb_owner;

--
-- Name: FUNCTION purge_backups(expired boolean, cutoff timestamp with time zone, batch_size integer); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.purge_backups(expired boolean, cutoff timestamp with time zone, batch_size integer) IS 'Delete one batch of expired (or trashed) backups older than cutoff, skipping locked rows, and give their bytes back per user in the same transaction.';

--
-- Name: random_bytes32(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.random_bytes32() RETURNS bytea
    LANGUAGE sql PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT pg_catalog.sha256(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                          || pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                          || pg_catalog.uuid_send(pg_catalog.gen_random_uuid()))
$$;

ALTER FUNCTION zkeb_private.random_bytes32() OWNER TO zkeb_owner;

--
-- Name: FUNCTION random_bytes32(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.random_bytes32() IS '32 cryptographically random bytes from the server CSPRNG (no extension needed).';

--
-- Name: settings; Type: TABLE; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE TABLE zkeb_private.settings (
    id boolean DEFAULT true NOT NULL,
    default_quota_bytes bigint DEFAULT 1073741824 NOT NULL,
    max_backup_bytes bigint DEFAULT 67108864 NOT NULL,
    max_sync_payload_bytes integer DEFAULT 65536 NOT NULL,
    trash_retention interval DEFAULT '30 days'::interval NOT NULL,
    audit_retention interval DEFAULT '6 years'::interval NOT NULL,
    lockout_threshold integer DEFAULT 10 NOT NULL,
    lockout_duration interval DEFAULT '00:15:00'::interval NOT NULL,
    audit_downloads boolean DEFAULT false NOT NULL,
    default_kdf_params jsonb DEFAULT '{"alg": "argon2id", "mem_kib": 65536, "iterations": 3, "parallelism": 1}'::jsonb NOT NULL,
    audit_pepper bytea DEFAULT zkeb_private.random_bytes32() NOT NULL,
    prelogin_key bytea DEFAULT zkeb_private.random_bytes32() NOT NULL,
    audit_pepper_ipad bytea GENERATED ALWAYS AS (zkeb_private.hmac_pad(audit_pepper, 54)) STORED,
    audit_pepper_opad bytea GENERATED ALWAYS AS (zkeb_private.hmac_pad(audit_pepper, 92)) STORED,
    CONSTRAINT settings_audit_pepper_check CHECK ((octet_length(audit_pepper) = 32)),
    CONSTRAINT settings_audit_pepper_ipad_check CHECK ((octet_length(audit_pepper_ipad) = 64)),
    CONSTRAINT settings_audit_pepper_opad_check CHECK ((octet_length(audit_pepper_opad) = 64)),
    CONSTRAINT settings_audit_retention_check CHECK ((audit_retention >= '1 day'::interval)),
    CONSTRAINT settings_default_kdf_params_check CHECK (((jsonb_typeof(default_kdf_params) = 'object'::text) AND (octet_length((default_kdf_params)::text) <= 1024))),
    CONSTRAINT settings_default_quota_bytes_check CHECK ((default_quota_bytes >= 0)),
    CONSTRAINT settings_lockout_duration_check CHECK ((lockout_duration > '00:00:00'::interval)),
    CONSTRAINT settings_lockout_threshold_check CHECK (((lockout_threshold >= 1) AND (lockout_threshold <= 1000))),
    CONSTRAINT settings_max_backup_bytes_check CHECK (((max_backup_bytes >= 1) AND (max_backup_bytes <= 1073741824))),
    CONSTRAINT settings_max_sync_payload_bytes_check CHECK (((max_sync_payload_bytes >= 0) AND (max_sync_payload_bytes <= 1048576))),
    CONSTRAINT settings_prelogin_key_check CHECK ((octet_length(prelogin_key) = 32)),
    CONSTRAINT settings_single_row CHECK (id),
    CONSTRAINT settings_trash_retention_check CHECK ((trash_retention >= '00:00:00'::interval))
);

ALTER TABLE ONLY zkeb_private.settings FORCE ROW LEVEL SECURITY;

ALTER TABLE zkeb_private.settings OWNER TO zkeb_owner;

--
-- Name: TABLE settings; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON TABLE zkeb_private.settings IS 'Deployment settings, exactly one row; readable by the owner''s functions only.';

--
-- Name: COLUMN settings.id; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.id IS 'Always true: makes the table hold a single row.';

--
-- Name: COLUMN settings.default_quota_bytes; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.default_quota_bytes IS 'Storage quota of a new user, in bytes (default 1 GiB).';

--
-- Name: COLUMN settings.max_backup_bytes; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.max_backup_bytes IS 'Largest ciphertext create_backup accepts, in bytes (default 64 MiB; larger is ZK413).';

--
-- Name: COLUMN settings.max_sync_payload_bytes; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.max_sync_payload_bytes IS 'Largest sync_push payload, in bytes (default 64 KiB; larger is ZK413).';

--
-- Name: COLUMN settings.trash_retention; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.trash_retention IS 'How long trashed backups stay before purge_trash removes them.';

--
-- Name: COLUMN settings.audit_retention; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.audit_retention IS 'How long audit events are kept before purge_audit_logs removes them.';

--
-- Name: COLUMN settings.lockout_threshold; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.lockout_threshold IS 'Consecutive failed logins that lock an account.';

--
-- Name: COLUMN settings.lockout_duration; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.lockout_duration IS 'How long a locked account refuses logins.';

--
-- Name: COLUMN settings.audit_downloads; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.audit_downloads IS 'When true, get_backup writes a backup_download audit event.';

--
-- Name: COLUMN settings.default_kdf_params; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.default_kdf_params IS 'KDF parameters prelogin returns for unknown users.';

--
-- Name: COLUMN settings.audit_pepper; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.audit_pepper IS 'Key of the keyed hash that pseudonymises user ids in the audit log.';

--
-- Name: COLUMN settings.prelogin_key; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.prelogin_key IS 'Key from which prelogin derives deterministic fake salts for unknown users.';

--
-- Name: COLUMN settings.audit_pepper_ipad; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.audit_pepper_ipad IS 'HMAC-SHA256 inner block key of audit_pepper (generated: the pepper zero-padded to 64 bytes XOR 0x36).';

--
-- Name: COLUMN settings.audit_pepper_opad; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb_private.settings.audit_pepper_opad IS 'HMAC-SHA256 outer block key of audit_pepper (generated: the pepper zero-padded to 64 bytes XOR 0x5c).';

--
-- Name: settings(); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.settings() RETURNS zkeb_private.settings
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT s FROM zkeb_private.settings AS s WHERE s.id
$$;

ALTER FUNCTION zkeb_private.settings() OWNER TO zkeb_owner;

--
-- Name: FUNCTION settings(); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.settings() IS 'The deployment settings row (owner only).';

--
-- Name: valid_vector_clock(jsonb); Type: FUNCTION; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE FUNCTION zkeb_private.valid_vector_clock(clock jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    _key text;
    _value jsonb;
    _n integer := 0;
BEGIN
    IF clock IS NULL OR pg_catalog.jsonb_typeof(clock) <> 'object' THEN
        RETURN false;
    END IF;
    FOR _key, _value IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(clock) AS e LOOP
        _n := _n + 1;
        IF _n > 1000 THEN
            RETURN false;
        END IF;
        IF _key !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            RETURN false;
        END IF;
        IF pg_catalog.jsonb_typeof(_value) <> 'number'
           OR (_value #>> '{}') !~ '^[0-9]{1,18}$' THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$_$;

ALTER FUNCTION zkeb_private.valid_vector_clock(clock jsonb) OWNER TO zkeb_owner;

--
-- Name: FUNCTION valid_vector_clock(clock jsonb); Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON FUNCTION zkeb_private.valid_vector_clock(clock jsonb) IS 'True when clock is a JSON object of at most 1000 entries mapping lower-case uuid text to a non-negative integer below 10^18.';

--
-- Name: audit_logs; Type: TABLE; Schema: zkeb; Owner: zkeb_owner
--

CREATE TABLE zkeb.audit_logs (
    user_hash bytea NOT NULL,
    event_id bigint NOT NULL,
    action text NOT NULL,
    success boolean NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    prev_hash bytea NOT NULL,
    row_hash bytea NOT NULL,
    CONSTRAINT audit_logs_action_check CHECK ((action = ANY (ARRAY['register'::text, 'login_ok'::text, 'login_denied'::text, 'login_locked'::text, 'logout'::text, 'device_register'::text, 'device_revoke'::text, 'backup_create'::text, 'backup_delete'::text, 'backup_restore'::text, 'backup_purge'::text, 'backup_download'::text, 'recovery_shares_store'::text, 'account_delete'::text, 'quota_set'::text, 'maint_cleanup_expired'::text, 'maint_purge_trash'::text, 'maint_purge_sessions'::text, 'maint_purge_audit'::text, 'audit_retention_anchor'::text]))),
    CONSTRAINT audit_logs_event_id_check CHECK ((event_id >= 1)),
    CONSTRAINT audit_logs_metadata_check CHECK (((jsonb_typeof(metadata) = 'object'::text) AND (octet_length((metadata)::text) <= 4096))),
    CONSTRAINT audit_logs_prev_hash_check CHECK ((octet_length(prev_hash) = 32)),
    CONSTRAINT audit_logs_row_hash_check CHECK ((octet_length(row_hash) = 32)),
    CONSTRAINT audit_logs_user_hash_check CHECK ((octet_length(user_hash) = 32))
);

ALTER TABLE ONLY zkeb.audit_logs FORCE ROW LEVEL SECURITY;

ALTER TABLE zkeb.audit_logs OWNER TO zkeb_owner;

--
-- Name: TABLE audit_logs; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON TABLE zkeb.audit_logs IS 'Append-only audit log, hash-chained per pseudonymised user (and one system chain).';

--
-- Name: COLUMN audit_logs.user_hash; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.audit_logs.user_hash IS 'Keyed hash (HMAC with the settings pepper) of the user id; the system chain has its own hash.';

--
-- Name: COLUMN audit_logs.event_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.audit_logs.event_id IS 'Position in the chain: 1, 2, 3, ... per user_hash.';

--
-- Name: COLUMN audit_logs.action; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.audit_logs.action IS 'What happened, from a fixed set; audit_retention_anchor marks where retention cut the chain (it carries the last removed event''s position and hashes).';

--
-- Name: COLUMN audit_logs.success; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.audit_logs.success IS 'Whether the action succeeded.';

--
-- Name: COLUMN audit_logs.metadata; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.audit_logs.metadata IS 'Small JSON object without personal data (ids are random uuids, no IP or user agent).';

--
-- Name: COLUMN audit_logs.created_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.audit_logs.created_at IS 'When the event was written.';

--
-- Name: COLUMN audit_logs.prev_hash; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.audit_logs.prev_hash IS 'row_hash of the previous event of the chain (32 zero bytes for the first).';

--
-- Name: COLUMN audit_logs.row_hash; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.audit_logs.row_hash IS 'sha256(prev_hash || canonical encoding of the row), see zkeb_private.audit_row_hash and docs/audit.md.';

--
-- Name: devices; Type: TABLE; Schema: zkeb; Owner: zkeb_owner
--

CREATE TABLE zkeb.devices (
    user_id uuid NOT NULL,
    device_id uuid DEFAULT gen_random_uuid() NOT NULL,
    device_id_hash bytea NOT NULL,
    key_algorithm text NOT NULL,
    public_key bytea NOT NULL,
    sync_lamport bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT devices_device_id_hash_check CHECK ((octet_length(device_id_hash) = 32)),
    CONSTRAINT devices_key_algorithm_check CHECK ((key_algorithm = ANY (ARRAY['ed25519'::text, 'rsa-4096'::text]))),
    CONSTRAINT devices_public_key_check CHECK ((((key_algorithm = 'ed25519'::text) AND (octet_length(public_key) = 32)) OR ((key_algorithm = 'rsa-4096'::text) AND (octet_length(public_key) = 550)))),
    CONSTRAINT devices_sync_lamport_check CHECK ((sync_lamport >= 0))
);

ALTER TABLE ONLY zkeb.devices FORCE ROW LEVEL SECURITY;

ALTER TABLE zkeb.devices OWNER TO zkeb_owner;

--
-- Name: TABLE devices; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON TABLE zkeb.devices IS 'Devices of a user, each with the public key that signs its backups.';

--
-- Name: COLUMN devices.user_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.devices.user_id IS 'Owner of the device.';

--
-- Name: COLUMN devices.device_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.devices.device_id IS 'Random device id.';

--
-- Name: COLUMN devices.device_id_hash; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.devices.device_id_hash IS 'Opaque 32-byte hash of the client''s device identifier.';

--
-- Name: COLUMN devices.key_algorithm; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.devices.key_algorithm IS 'Signature algorithm: ed25519 or rsa-4096.';

--
-- Name: COLUMN devices.public_key; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.devices.public_key IS 'Public signing key: 32 raw bytes (ed25519) or a 550-byte DER SubjectPublicKeyInfo (rsa-4096).';

--
-- Name: COLUMN devices.sync_lamport; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.devices.sync_lamport IS 'Last Lamport value this device pushed; pushes must increase it.';

--
-- Name: COLUMN devices.created_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.devices.created_at IS 'When the device was registered.';

--
-- Name: COLUMN devices.revoked_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.devices.revoked_at IS 'When the device was revoked; a revoked device signs nothing and its sessions end.';

--
-- Name: encrypted_backups; Type: TABLE; Schema: zkeb; Owner: zkeb_owner
--

CREATE TABLE zkeb.encrypted_backups (
    user_id uuid NOT NULL,
    backup_id uuid NOT NULL,
    device_id uuid NOT NULL,
    backup_name_hash bytea NOT NULL,
    ciphertext bytea NOT NULL,
    nonce bytea NOT NULL,
    auth_tag bytea NOT NULL,
    signature bytea NOT NULL,
    key_algorithm text NOT NULL,
    size_bytes bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    deleted_at timestamp with time zone,
    CONSTRAINT encrypted_backups_auth_tag_check CHECK ((octet_length(auth_tag) = 16)),
    CONSTRAINT encrypted_backups_backup_name_hash_check CHECK ((octet_length(backup_name_hash) = 32)),
    CONSTRAINT encrypted_backups_ciphertext_check CHECK ((octet_length(ciphertext) >= 1)),
    CONSTRAINT encrypted_backups_key_algorithm_check CHECK ((key_algorithm = ANY (ARRAY['ed25519'::text, 'rsa-4096'::text]))),
    CONSTRAINT encrypted_backups_nonce_check CHECK ((octet_length(nonce) = 12)),
    CONSTRAINT encrypted_backups_signature_check CHECK ((((key_algorithm = 'ed25519'::text) AND (octet_length(signature) = 64)) OR ((key_algorithm = 'rsa-4096'::text) AND (octet_length(signature) = 512)))),
    CONSTRAINT encrypted_backups_size_bytes_check CHECK ((size_bytes = octet_length(ciphertext)))
);

ALTER TABLE ONLY zkeb.encrypted_backups FORCE ROW LEVEL SECURITY;

ALTER TABLE zkeb.encrypted_backups OWNER TO zkeb_owner;

--
-- Name: TABLE encrypted_backups; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON TABLE zkeb.encrypted_backups IS 'Client-encrypted backups: opaque ciphertext plus what is needed to serve and verify it.';

--
-- Name: COLUMN encrypted_backups.user_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.user_id IS 'Owner of the backup.';

--
-- Name: COLUMN encrypted_backups.backup_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.backup_id IS 'Client-chosen id; a retry with the same id and content is idempotent.';

--
-- Name: COLUMN encrypted_backups.device_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.device_id IS 'Device whose key signed the backup.';

--
-- Name: COLUMN encrypted_backups.backup_name_hash; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.backup_name_hash IS 'Opaque 32-byte hash of the backup name, computed by the client.';

--
-- Name: COLUMN encrypted_backups.ciphertext; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.ciphertext IS 'Client-side encrypted content; the server has no key for it.';

--
-- Name: COLUMN encrypted_backups.nonce; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.nonce IS '12-byte AEAD nonce.';

--
-- Name: COLUMN encrypted_backups.auth_tag; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.auth_tag IS '16-byte AEAD authentication tag.';

--
-- Name: COLUMN encrypted_backups.signature; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.signature IS 'Signature by the device key: 64 bytes (ed25519) or 512 bytes (rsa-4096).';

--
-- Name: COLUMN encrypted_backups.key_algorithm; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.key_algorithm IS 'Algorithm of the signing device, carried on the row so a CHECK can bind the signature length.';

--
-- Name: COLUMN encrypted_backups.size_bytes; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.size_bytes IS 'octet_length(ciphertext), charged against the quota.';

--
-- Name: COLUMN encrypted_backups.created_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.created_at IS 'When the backup was stored.';

--
-- Name: COLUMN encrypted_backups.expires_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.expires_at IS 'When the backup expires (gone for every call from then on; cleanup frees it).';

--
-- Name: COLUMN encrypted_backups.deleted_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.encrypted_backups.deleted_at IS 'When the backup went to the trash (still counted against the quota until purged).';

--
-- Name: recovery_shares; Type: TABLE; Schema: zkeb; Owner: zkeb_owner
--

CREATE TABLE zkeb.recovery_shares (
    user_id uuid NOT NULL,
    recovery_set_id uuid NOT NULL,
    share_index integer NOT NULL,
    guardian_hash bytea NOT NULL,
    threshold integer NOT NULL,
    total_shares integer NOT NULL,
    encrypted_share bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT recovery_shares_encrypted_share_check CHECK (((octet_length(encrypted_share) >= 1) AND (octet_length(encrypted_share) <= 4096))),
    CONSTRAINT recovery_shares_guardian_hash_check CHECK ((octet_length(guardian_hash) = 32)),
    CONSTRAINT recovery_shares_share_index_check CHECK (((share_index >= 1) AND (share_index <= total_shares))),
    CONSTRAINT recovery_shares_threshold_check CHECK (((2 <= threshold) AND (threshold <= total_shares) AND (total_shares <= 255)))
);

ALTER TABLE ONLY zkeb.recovery_shares FORCE ROW LEVEL SECURITY;

ALTER TABLE zkeb.recovery_shares OWNER TO zkeb_owner;

--
-- Name: TABLE recovery_shares; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON TABLE zkeb.recovery_shares IS 'Shamir shares of a user''s recovery key, each encrypted by the client for one guardian.';

--
-- Name: COLUMN recovery_shares.user_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.recovery_shares.user_id IS 'Owner of the share set.';

--
-- Name: COLUMN recovery_shares.recovery_set_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.recovery_shares.recovery_set_id IS 'The set the share belongs to; a user has at most one set at a time.';

--
-- Name: COLUMN recovery_shares.share_index; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.recovery_shares.share_index IS 'Shamir x-coordinate, 1..total_shares, distinct within a set.';

--
-- Name: COLUMN recovery_shares.guardian_hash; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.recovery_shares.guardian_hash IS 'Opaque 32-byte hash identifying the guardian, computed by the client.';

--
-- Name: COLUMN recovery_shares.threshold; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.recovery_shares.threshold IS 'Shares needed to recover (2..total_shares).';

--
-- Name: COLUMN recovery_shares.total_shares; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.recovery_shares.total_shares IS 'Shares in the set (threshold..255).';

--
-- Name: COLUMN recovery_shares.encrypted_share; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.recovery_shares.encrypted_share IS 'The share, encrypted by the client for the guardian (1..4096 bytes).';

--
-- Name: COLUMN recovery_shares.created_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.recovery_shares.created_at IS 'When the set was stored.';

--
-- Name: sessions; Type: TABLE; Schema: zkeb; Owner: zkeb_owner
--

CREATE TABLE zkeb.sessions (
    user_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    device_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT sessions_expires_at_check CHECK ((expires_at > created_at)),
    CONSTRAINT sessions_token_hash_check CHECK ((octet_length(token_hash) = 32))
);

ALTER TABLE ONLY zkeb.sessions FORCE ROW LEVEL SECURITY;

ALTER TABLE zkeb.sessions OWNER TO zkeb_owner;

--
-- Name: TABLE sessions; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON TABLE zkeb.sessions IS 'Login sessions; only the sha256 of each token is kept.';

--
-- Name: COLUMN sessions.user_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sessions.user_id IS 'Owner of the session (also the first 16 bytes of the token).';

--
-- Name: COLUMN sessions.token_hash; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sessions.token_hash IS 'sha256 of the 48-byte session token.';

--
-- Name: COLUMN sessions.device_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sessions.device_id IS 'Device the session was opened for, if any; revoking it ends the session.';

--
-- Name: COLUMN sessions.created_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sessions.created_at IS 'When the session was opened.';

--
-- Name: COLUMN sessions.expires_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sessions.expires_at IS 'When the session ends by itself.';

--
-- Name: COLUMN sessions.revoked_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sessions.revoked_at IS 'When the session was ended (logout or device revocation).';

--
-- Name: sync_metadata; Type: TABLE; Schema: zkeb; Owner: zkeb_owner
--

CREATE TABLE zkeb.sync_metadata (
    user_id uuid NOT NULL,
    entity_hash bytea NOT NULL,
    version_id uuid DEFAULT gen_random_uuid() NOT NULL,
    device_id uuid NOT NULL,
    vector_clock jsonb NOT NULL,
    lamport bigint NOT NULL,
    seq bigint NOT NULL,
    is_sibling boolean DEFAULT false NOT NULL,
    payload bytea,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sync_metadata_entity_hash_check CHECK ((octet_length(entity_hash) = 32)),
    CONSTRAINT sync_metadata_lamport_check CHECK ((lamport >= 0)),
    CONSTRAINT sync_metadata_payload_check CHECK ((octet_length(payload) <= 1048576)),
    CONSTRAINT sync_metadata_seq_check CHECK ((seq >= 1)),
    CONSTRAINT sync_metadata_vector_clock_check CHECK (zkeb_private.valid_vector_clock(vector_clock))
);

ALTER TABLE ONLY zkeb.sync_metadata FORCE ROW LEVEL SECURITY;

ALTER TABLE zkeb.sync_metadata OWNER TO zkeb_owner;

--
-- Name: TABLE sync_metadata; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON TABLE zkeb.sync_metadata IS 'Current heads (and concurrent siblings) of each synced entity; superseded versions are deleted.';

--
-- Name: COLUMN sync_metadata.user_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.user_id IS 'Owner of the entity.';

--
-- Name: COLUMN sync_metadata.entity_hash; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.entity_hash IS 'Opaque 32-byte hash identifying the synced entity, computed by the client.';

--
-- Name: COLUMN sync_metadata.version_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.version_id IS 'Id of this version (siblings of one entity differ here).';

--
-- Name: COLUMN sync_metadata.device_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.device_id IS 'Device that pushed this version.';

--
-- Name: COLUMN sync_metadata.vector_clock; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.vector_clock IS 'Vector clock: JSON object device id (uuid text) -> non-negative integer.';

--
-- Name: COLUMN sync_metadata.lamport; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.lamport IS 'Lamport value of the push (per device, strictly increasing).';

--
-- Name: COLUMN sync_metadata.seq; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.seq IS 'Per-user change sequence, taken under the user''s row lock (increases in commit order).';

--
-- Name: COLUMN sync_metadata.is_sibling; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.is_sibling IS 'True while concurrent versions of the entity coexist.';

--
-- Name: COLUMN sync_metadata.payload; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.payload IS 'Optional client-encrypted payload (at most max_sync_payload_bytes).';

--
-- Name: COLUMN sync_metadata.updated_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.sync_metadata.updated_at IS 'When this version was written.';

--
-- Name: users; Type: TABLE; Schema: zkeb; Owner: zkeb_owner
--

CREATE TABLE zkeb.users (
    user_id uuid DEFAULT gen_random_uuid() NOT NULL,
    username_hash bytea NOT NULL,
    auth_salt bytea NOT NULL,
    auth_verifier bytea NOT NULL,
    kdf_params jsonb NOT NULL,
    storage_quota_bytes bigint NOT NULL,
    storage_used_bytes bigint DEFAULT 0 NOT NULL,
    account_status text DEFAULT 'active'::text NOT NULL,
    failed_login_count integer DEFAULT 0 NOT NULL,
    locked_until timestamp with time zone,
    sync_seq bigint DEFAULT 0 NOT NULL,
    audit_event_id bigint DEFAULT 0 NOT NULL,
    audit_head bytea,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_account_status_check CHECK ((account_status = ANY (ARRAY['active'::text, 'suspended'::text]))),
    CONSTRAINT users_audit_event_id_check CHECK ((audit_event_id >= 0)),
    CONSTRAINT users_audit_head_check CHECK ((((audit_event_id = 0) AND (audit_head IS NULL)) OR ((audit_event_id > 0) AND (octet_length(audit_head) = 32)))),
    CONSTRAINT users_auth_salt_check CHECK ((octet_length(auth_salt) = 32)),
    CONSTRAINT users_auth_verifier_check CHECK ((octet_length(auth_verifier) = 32)),
    CONSTRAINT users_failed_login_count_check CHECK ((failed_login_count >= 0)),
    CONSTRAINT users_kdf_params_check CHECK (((jsonb_typeof(kdf_params) = 'object'::text) AND (octet_length((kdf_params)::text) <= 1024))),
    CONSTRAINT users_storage_quota_bytes_check CHECK ((storage_quota_bytes >= 0)),
    CONSTRAINT users_storage_used_bytes_check CHECK (((storage_used_bytes >= 0) AND (storage_used_bytes <= storage_quota_bytes))),
    CONSTRAINT users_sync_seq_check CHECK ((sync_seq >= 0)),
    CONSTRAINT users_username_hash_check CHECK ((octet_length(username_hash) = 32))
);

ALTER TABLE ONLY zkeb.users FORCE ROW LEVEL SECURITY;

ALTER TABLE zkeb.users OWNER TO zkeb_owner;

--
-- Name: TABLE users; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON TABLE zkeb.users IS 'Accounts. Identified by an opaque client-side username hash; only a verifier of the auth key is kept.';

--
-- Name: COLUMN users.user_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.user_id IS 'Random account id; leads every key of every tenant table.';

--
-- Name: COLUMN users.username_hash; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.username_hash IS 'Opaque 32-byte hash of the username, computed by the client.';

--
-- Name: COLUMN users.auth_salt; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.auth_salt IS '32-byte salt the client uses to derive its auth key (returned by prelogin).';

--
-- Name: COLUMN users.auth_verifier; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.auth_verifier IS 'sha256(auth_salt || auth_key); the auth key itself is never stored.';

--
-- Name: COLUMN users.kdf_params; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.kdf_params IS 'Client KDF parameters (algorithm and cost), a JSON object of at most 1 KiB.';

--
-- Name: COLUMN users.storage_quota_bytes; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.storage_quota_bytes IS 'Storage quota in bytes.';

--
-- Name: COLUMN users.storage_used_bytes; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.storage_used_bytes IS 'Bytes of the user''s stored backups (live and trash); never above the quota.';

--
-- Name: COLUMN users.account_status; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.account_status IS 'active or suspended (suspended accounts get ZK403 on every session call).';

--
-- Name: COLUMN users.failed_login_count; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.failed_login_count IS 'Consecutive failed logins; reset by a successful login.';

--
-- Name: COLUMN users.locked_until; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.locked_until IS 'Logins are refused with status locked until this time.';

--
-- Name: COLUMN users.sync_seq; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.sync_seq IS 'Last sync sequence number handed out for this user (taken under this row''s lock).';

--
-- Name: COLUMN users.audit_event_id; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.audit_event_id IS 'Position of the last event in this user''s audit chain.';

--
-- Name: COLUMN users.audit_head; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.audit_head IS 'row_hash of the last event in this user''s audit chain.';

--
-- Name: COLUMN users.created_at; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON COLUMN zkeb.users.created_at IS 'When the account was registered.';

--
-- Name: audit_logs audit_logs_pkey; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.audit_logs
    ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (user_hash, event_id);

--
-- Name: devices devices_device_id_hash_key; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.devices
    ADD CONSTRAINT devices_device_id_hash_key UNIQUE (user_id, device_id_hash);

--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (user_id, device_id);

--
-- Name: encrypted_backups encrypted_backups_pkey; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.encrypted_backups
    ADD CONSTRAINT encrypted_backups_pkey PRIMARY KEY (user_id, backup_id);

--
-- Name: recovery_shares recovery_shares_pkey; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.recovery_shares
    ADD CONSTRAINT recovery_shares_pkey PRIMARY KEY (user_id, recovery_set_id, share_index);

--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (user_id, token_hash);

--
-- Name: sync_metadata sync_metadata_pkey; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.sync_metadata
    ADD CONSTRAINT sync_metadata_pkey PRIMARY KEY (user_id, entity_hash, version_id);

--
-- Name: sync_metadata sync_metadata_seq_key; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.sync_metadata
    ADD CONSTRAINT sync_metadata_seq_key UNIQUE (user_id, seq);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (user_id);

--
-- Name: users users_username_hash_key; Type: CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.users
    ADD CONSTRAINT users_username_hash_key UNIQUE (username_hash);

--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: zkeb_private; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb_private.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (id);

--
-- Name: audit_logs_created_at_idx; Type: INDEX; Schema: zkeb; Owner: zkeb_owner
--

CREATE INDEX audit_logs_created_at_idx ON zkeb.audit_logs USING btree (created_at) WHERE (action <> 'audit_retention_anchor'::text);

--
-- Name: encrypted_backups_deleted_at_idx; Type: INDEX; Schema: zkeb; Owner: zkeb_owner
--

CREATE INDEX encrypted_backups_deleted_at_idx ON zkeb.encrypted_backups USING btree (deleted_at) WHERE (deleted_at IS NOT NULL);

--
-- Name: encrypted_backups_expires_at_idx; Type: INDEX; Schema: zkeb; Owner: zkeb_owner
--

CREATE INDEX encrypted_backups_expires_at_idx ON zkeb.encrypted_backups USING btree (expires_at) WHERE (expires_at IS NOT NULL);

--
-- Name: encrypted_backups_list_idx; Type: INDEX; Schema: zkeb; Owner: zkeb_owner
--

CREATE INDEX encrypted_backups_list_idx ON zkeb.encrypted_backups USING btree (user_id, created_at DESC, backup_id DESC);

--
-- Name: encrypted_backups_name_idx; Type: INDEX; Schema: zkeb; Owner: zkeb_owner
--

CREATE INDEX encrypted_backups_name_idx ON zkeb.encrypted_backups USING btree (user_id, backup_name_hash, created_at DESC, backup_id DESC);

--
-- Name: sessions_device_idx; Type: INDEX; Schema: zkeb; Owner: zkeb_owner
--

CREATE INDEX sessions_device_idx ON zkeb.sessions USING btree (user_id, device_id) WHERE (device_id IS NOT NULL);

--
-- Name: sessions_expires_at_idx; Type: INDEX; Schema: zkeb; Owner: zkeb_owner
--

CREATE INDEX sessions_expires_at_idx ON zkeb.sessions USING btree (expires_at);

--
-- Name: audit_logs audit_logs_append_only_row; Type: TRIGGER; Schema: zkeb; Owner: zkeb_owner
--

CREATE TRIGGER audit_logs_append_only_row BEFORE DELETE OR UPDATE ON zkeb.audit_logs FOR EACH ROW EXECUTE FUNCTION zkeb_private.audit_logs_append_only();

--
-- Name: audit_logs audit_logs_append_only_truncate; Type: TRIGGER; Schema: zkeb; Owner: zkeb_owner
--

CREATE TRIGGER audit_logs_append_only_truncate BEFORE TRUNCATE ON zkeb.audit_logs FOR EACH STATEMENT EXECUTE FUNCTION zkeb_private.audit_logs_append_only();

--
-- Name: devices devices_user_id_fkey; Type: FK CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.devices
    ADD CONSTRAINT devices_user_id_fkey FOREIGN KEY (user_id) REFERENCES zkeb.users(user_id);

--
-- Name: encrypted_backups encrypted_backups_device_fkey; Type: FK CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.encrypted_backups
    ADD CONSTRAINT encrypted_backups_device_fkey FOREIGN KEY (user_id, device_id) REFERENCES zkeb.devices(user_id, device_id);

--
-- Name: recovery_shares recovery_shares_user_id_fkey; Type: FK CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.recovery_shares
    ADD CONSTRAINT recovery_shares_user_id_fkey FOREIGN KEY (user_id) REFERENCES zkeb.users(user_id);

--
-- Name: sessions sessions_device_fkey; Type: FK CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.sessions
    ADD CONSTRAINT sessions_device_fkey FOREIGN KEY (user_id, device_id) REFERENCES zkeb.devices(user_id, device_id);

--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES zkeb.users(user_id);

--
-- Name: sync_metadata sync_metadata_device_fkey; Type: FK CONSTRAINT; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE ONLY zkeb.sync_metadata
    ADD CONSTRAINT sync_metadata_device_fkey FOREIGN KEY (user_id, device_id) REFERENCES zkeb.devices(user_id, device_id);

--
-- Name: audit_logs; Type: ROW SECURITY; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE zkeb.audit_logs ENABLE ROW LEVEL SECURITY;

--
-- Name: audit_logs audit_logs_delete_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY audit_logs_delete_maint ON zkeb.audit_logs FOR DELETE TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY audit_logs_delete_maint ON audit_logs; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY audit_logs_delete_maint ON zkeb.audit_logs IS 'Only retention (purge_audit_logs, in the maintenance context) removes events; the append-only trigger also insists on its zkeb.audit_purge flag.';

--
-- Name: audit_logs audit_logs_insert_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY audit_logs_insert_maint ON zkeb.audit_logs FOR INSERT TO zkeb_owner WITH CHECK (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY audit_logs_insert_maint ON audit_logs; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY audit_logs_insert_maint ON zkeb.audit_logs IS 'Maintenance appends to any chain: set_quota writes quota_set on the user''s chain, retention writes the audit_retention_anchor that replaces a purged prefix.';

--
-- Name: audit_logs audit_logs_insert_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY audit_logs_insert_own ON zkeb.audit_logs FOR INSERT TO zkeb_owner WITH CHECK ((user_hash = ANY (( SELECT zkeb_private.audit_context_hashes() AS audit_context_hashes)::bytea[])));

--
-- Name: POLICY audit_logs_insert_own ON audit_logs; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY audit_logs_insert_own ON zkeb.audit_logs IS 'Events are appended only to a chain the current context may write.';

--
-- Name: audit_logs audit_logs_select_audit; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY audit_logs_select_audit ON zkeb.audit_logs FOR SELECT TO zkeb_owner USING (( SELECT zkeb_private.audit_reader_active() AS audit_reader_active));

--
-- Name: POLICY audit_logs_select_audit ON audit_logs; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY audit_logs_select_audit ON zkeb.audit_logs IS 'Auditors and maintainers read every chain to verify and export it.';

--
-- Name: audit_logs audit_logs_select_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY audit_logs_select_maint ON zkeb.audit_logs FOR SELECT TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY audit_logs_select_maint ON audit_logs; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY audit_logs_select_maint ON zkeb.audit_logs IS 'Maintenance reads every chain for retention and the invariant checks.';

--
-- Name: audit_logs audit_logs_select_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY audit_logs_select_own ON zkeb.audit_logs FOR SELECT TO zkeb_owner USING ((user_hash = ANY (( SELECT zkeb_private.audit_context_hashes() AS audit_context_hashes)::bytea[])));

--
-- Name: POLICY audit_logs_select_own ON audit_logs; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY audit_logs_select_own ON zkeb.audit_logs IS 'A context reads the chains it may write: its session user''s, its looked-up user''s, the system chain under maintenance.';

--
-- Name: devices; Type: ROW SECURITY; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE zkeb.devices ENABLE ROW LEVEL SECURITY;

--
-- Name: devices devices_delete_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY devices_delete_own ON zkeb.devices FOR DELETE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY devices_delete_own ON devices; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY devices_delete_own ON zkeb.devices IS 'delete_account erases its own devices.';

--
-- Name: devices devices_insert_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY devices_insert_own ON zkeb.devices FOR INSERT TO zkeb_owner WITH CHECK ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY devices_insert_own ON devices; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY devices_insert_own ON zkeb.devices IS 'A session registers devices for its own account only.';

--
-- Name: devices devices_select_lookup; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY devices_select_lookup ON zkeb.devices FOR SELECT TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.lookup_user_id() AS lookup_user_id)));

--
-- Name: POLICY devices_select_lookup ON devices; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY devices_select_lookup ON zkeb.devices IS 'login checks the device it names belongs to the looked-up account.';

--
-- Name: devices devices_select_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY devices_select_maint ON zkeb.devices FOR SELECT TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY devices_select_maint ON devices; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY devices_select_maint ON zkeb.devices IS 'Maintenance reads devices for the invariant checks.';

--
-- Name: devices devices_select_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY devices_select_own ON zkeb.devices FOR SELECT TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY devices_select_own ON devices; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY devices_select_own ON zkeb.devices IS 'A session sees its own devices.';

--
-- Name: devices devices_update_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY devices_update_own ON zkeb.devices FOR UPDATE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id))) WITH CHECK ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY devices_update_own ON devices; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY devices_update_own ON zkeb.devices IS 'A session revokes its own devices and advances their Lamport value.';

--
-- Name: encrypted_backups; Type: ROW SECURITY; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE zkeb.encrypted_backups ENABLE ROW LEVEL SECURITY;

--
-- Name: encrypted_backups encrypted_backups_delete_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY encrypted_backups_delete_maint ON zkeb.encrypted_backups FOR DELETE TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY encrypted_backups_delete_maint ON encrypted_backups; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY encrypted_backups_delete_maint ON zkeb.encrypted_backups IS 'Maintenance deletes expired backups and purges old trash.';

--
-- Name: encrypted_backups encrypted_backups_delete_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY encrypted_backups_delete_own ON zkeb.encrypted_backups FOR DELETE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY encrypted_backups_delete_own ON encrypted_backups; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY encrypted_backups_delete_own ON zkeb.encrypted_backups IS 'A session purges its own backups.';

--
-- Name: encrypted_backups encrypted_backups_insert_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY encrypted_backups_insert_own ON zkeb.encrypted_backups FOR INSERT TO zkeb_owner WITH CHECK ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY encrypted_backups_insert_own ON encrypted_backups; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY encrypted_backups_insert_own ON zkeb.encrypted_backups IS 'A session stores backups for its own account only.';

--
-- Name: encrypted_backups encrypted_backups_select_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY encrypted_backups_select_maint ON zkeb.encrypted_backups FOR SELECT TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY encrypted_backups_select_maint ON encrypted_backups; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY encrypted_backups_select_maint ON zkeb.encrypted_backups IS 'Maintenance finds expired and trashed backups (its functions never return ciphertext).';

--
-- Name: encrypted_backups encrypted_backups_select_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY encrypted_backups_select_own ON zkeb.encrypted_backups FOR SELECT TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY encrypted_backups_select_own ON encrypted_backups; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY encrypted_backups_select_own ON zkeb.encrypted_backups IS 'A session sees its own backups.';

--
-- Name: encrypted_backups encrypted_backups_update_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY encrypted_backups_update_maint ON zkeb.encrypted_backups FOR UPDATE TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active)) WITH CHECK (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY encrypted_backups_update_maint ON encrypted_backups; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY encrypted_backups_update_maint ON zkeb.encrypted_backups IS 'Maintenance row-locks expired and trashed backups (FOR UPDATE SKIP LOCKED) before deleting them.';

--
-- Name: encrypted_backups encrypted_backups_update_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY encrypted_backups_update_own ON zkeb.encrypted_backups FOR UPDATE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id))) WITH CHECK ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY encrypted_backups_update_own ON encrypted_backups; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY encrypted_backups_update_own ON zkeb.encrypted_backups IS 'A session trashes and restores its own backups.';

--
-- Name: recovery_shares; Type: ROW SECURITY; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE zkeb.recovery_shares ENABLE ROW LEVEL SECURITY;

--
-- Name: recovery_shares recovery_shares_delete_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY recovery_shares_delete_own ON zkeb.recovery_shares FOR DELETE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY recovery_shares_delete_own ON recovery_shares; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY recovery_shares_delete_own ON zkeb.recovery_shares IS 'A session replaces (deletes) its own recovery shares.';

--
-- Name: recovery_shares recovery_shares_insert_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY recovery_shares_insert_own ON zkeb.recovery_shares FOR INSERT TO zkeb_owner WITH CHECK ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY recovery_shares_insert_own ON recovery_shares; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY recovery_shares_insert_own ON zkeb.recovery_shares IS 'A session stores recovery shares for its own account only.';

--
-- Name: recovery_shares recovery_shares_select_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY recovery_shares_select_own ON zkeb.recovery_shares FOR SELECT TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY recovery_shares_select_own ON recovery_shares; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY recovery_shares_select_own ON zkeb.recovery_shares IS 'A session sees its own recovery shares.';

--
-- Name: sessions; Type: ROW SECURITY; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE zkeb.sessions ENABLE ROW LEVEL SECURITY;

--
-- Name: sessions sessions_delete_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sessions_delete_maint ON zkeb.sessions FOR DELETE TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY sessions_delete_maint ON sessions; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sessions_delete_maint ON zkeb.sessions IS 'Maintenance purges expired and revoked sessions.';

--
-- Name: sessions sessions_delete_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sessions_delete_own ON zkeb.sessions FOR DELETE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY sessions_delete_own ON sessions; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sessions_delete_own ON zkeb.sessions IS 'delete_account erases its own sessions.';

--
-- Name: sessions sessions_insert_lookup; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sessions_insert_lookup ON zkeb.sessions FOR INSERT TO zkeb_owner WITH CHECK ((user_id = ( SELECT zkeb_private.lookup_user_id() AS lookup_user_id)));

--
-- Name: POLICY sessions_insert_lookup ON sessions; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sessions_insert_lookup ON zkeb.sessions IS 'login opens a session for exactly the account it authenticated.';

--
-- Name: sessions sessions_select_claimed; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sessions_select_claimed ON zkeb.sessions FOR SELECT TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.claimed_user_id() AS claimed_user_id)));

--
-- Name: POLICY sessions_select_claimed ON sessions; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sessions_select_claimed ON zkeb.sessions IS 'The session check reads the rows of the user its token claims (parsed, no table read: no recursion); the hash, expiry and revocation are then checked on that row.';

--
-- Name: sessions sessions_select_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sessions_select_maint ON zkeb.sessions FOR SELECT TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY sessions_select_maint ON sessions; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sessions_select_maint ON zkeb.sessions IS 'Maintenance reads sessions to purge them and for the invariant checks.';

--
-- Name: sessions sessions_update_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sessions_update_maint ON zkeb.sessions FOR UPDATE TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active)) WITH CHECK (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY sessions_update_maint ON sessions; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sessions_update_maint ON zkeb.sessions IS 'Maintenance row-locks expired sessions (FOR UPDATE SKIP LOCKED) before deleting them.';

--
-- Name: sessions sessions_update_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sessions_update_own ON zkeb.sessions FOR UPDATE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id))) WITH CHECK ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY sessions_update_own ON sessions; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sessions_update_own ON zkeb.sessions IS 'A session ends its own account''s sessions (logout, device revocation).';

--
-- Name: sync_metadata; Type: ROW SECURITY; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE zkeb.sync_metadata ENABLE ROW LEVEL SECURITY;

--
-- Name: sync_metadata sync_metadata_delete_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sync_metadata_delete_own ON zkeb.sync_metadata FOR DELETE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY sync_metadata_delete_own ON sync_metadata; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sync_metadata_delete_own ON zkeb.sync_metadata IS 'A session removes its own superseded sync versions.';

--
-- Name: sync_metadata sync_metadata_insert_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sync_metadata_insert_own ON zkeb.sync_metadata FOR INSERT TO zkeb_owner WITH CHECK ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY sync_metadata_insert_own ON sync_metadata; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sync_metadata_insert_own ON zkeb.sync_metadata IS 'A session pushes sync versions for its own account only.';

--
-- Name: sync_metadata sync_metadata_select_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sync_metadata_select_maint ON zkeb.sync_metadata FOR SELECT TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY sync_metadata_select_maint ON sync_metadata; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sync_metadata_select_maint ON zkeb.sync_metadata IS 'Maintenance reads sync heads for the invariant checks.';

--
-- Name: sync_metadata sync_metadata_select_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sync_metadata_select_own ON zkeb.sync_metadata FOR SELECT TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY sync_metadata_select_own ON sync_metadata; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sync_metadata_select_own ON zkeb.sync_metadata IS 'A session sees its own sync metadata.';

--
-- Name: sync_metadata sync_metadata_update_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY sync_metadata_update_own ON zkeb.sync_metadata FOR UPDATE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id))) WITH CHECK ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY sync_metadata_update_own ON sync_metadata; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY sync_metadata_update_own ON zkeb.sync_metadata IS 'A session updates its own sync versions (sibling flags).';

--
-- Name: users; Type: ROW SECURITY; Schema: zkeb; Owner: zkeb_owner
--

ALTER TABLE zkeb.users ENABLE ROW LEVEL SECURITY;

--
-- Name: users users_delete_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY users_delete_own ON zkeb.users FOR DELETE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY users_delete_own ON users; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY users_delete_own ON zkeb.users IS 'delete_account erases its own account row.';

--
-- Name: users users_insert_register; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY users_insert_register ON zkeb.users FOR INSERT TO zkeb_owner WITH CHECK ((user_id = ( SELECT zkeb_private.lookup_user_id() AS lookup_user_id)));

--
-- Name: POLICY users_insert_register ON users; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY users_insert_register ON zkeb.users IS 'register_user inserts exactly the new account it announced in its lookup context.';

--
-- Name: users users_select_lookup; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY users_select_lookup ON zkeb.users FOR SELECT TO zkeb_owner USING (((username_hash = ( SELECT zkeb_private.lookup_username_hash() AS lookup_username_hash)) OR (user_id = ( SELECT zkeb_private.lookup_user_id() AS lookup_user_id))));

--
-- Name: POLICY users_select_lookup ON users; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY users_select_lookup ON zkeb.users IS 'Before a session (prelogin, register, login) exactly the looked-up account row is visible.';

--
-- Name: users users_select_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY users_select_maint ON zkeb.users FOR SELECT TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY users_select_maint ON users; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY users_select_maint ON zkeb.users IS 'Maintenance (members of zkeb_maintainer) sees every account row.';

--
-- Name: users users_select_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY users_select_own ON zkeb.users FOR SELECT TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY users_select_own ON users; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY users_select_own ON zkeb.users IS 'A session sees its own account row.';

--
-- Name: users users_update_lookup; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY users_update_lookup ON zkeb.users FOR UPDATE TO zkeb_owner USING (((username_hash = ( SELECT zkeb_private.lookup_username_hash() AS lookup_username_hash)) OR (user_id = ( SELECT zkeb_private.lookup_user_id() AS lookup_user_id)))) WITH CHECK (((username_hash = ( SELECT zkeb_private.lookup_username_hash() AS lookup_username_hash)) OR (user_id = ( SELECT zkeb_private.lookup_user_id() AS lookup_user_id))));

--
-- Name: POLICY users_update_lookup ON users; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY users_update_lookup ON zkeb.users IS 'login updates the failed-login counter and lock of exactly the looked-up account.';

--
-- Name: users users_update_maint; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY users_update_maint ON zkeb.users FOR UPDATE TO zkeb_owner USING (( SELECT zkeb_private.maintenance_active() AS maintenance_active)) WITH CHECK (( SELECT zkeb_private.maintenance_active() AS maintenance_active));

--
-- Name: POLICY users_update_maint ON users; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY users_update_maint ON zkeb.users IS 'Maintenance gives quota back and sets quotas.';

--
-- Name: users users_update_own; Type: POLICY; Schema: zkeb; Owner: zkeb_owner
--

CREATE POLICY users_update_own ON zkeb.users FOR UPDATE TO zkeb_owner USING ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id))) WITH CHECK ((user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id)));

--
-- Name: POLICY users_update_own ON users; Type: COMMENT; Schema: zkeb; Owner: zkeb_owner
--

COMMENT ON POLICY users_update_own ON zkeb.users IS 'A session updates its own account row (quota usage, sync sequence, audit head).';

--
-- Name: settings; Type: ROW SECURITY; Schema: zkeb_private; Owner: zkeb_owner
--

ALTER TABLE zkeb_private.settings ENABLE ROW LEVEL SECURITY;

--
-- Name: settings settings_select_owner; Type: POLICY; Schema: zkeb_private; Owner: zkeb_owner
--

CREATE POLICY settings_select_owner ON zkeb_private.settings FOR SELECT TO zkeb_owner USING ((CURRENT_USER = 'zkeb_owner'::name));

--
-- Name: POLICY settings_select_owner ON settings; Type: COMMENT; Schema: zkeb_private; Owner: zkeb_owner
--

COMMENT ON POLICY settings_select_owner ON zkeb_private.settings IS 'Settings are read by the owner''s functions only (no role but the owner has any privilege on the table).';

--
-- Name: SCHEMA zkeb_api; Type: ACL; Schema: -; Owner: zkeb_owner
--

GRANT USAGE ON SCHEMA zkeb_api TO zkeb_app;

--
-- Name: SCHEMA zkeb_maint; Type: ACL; Schema: -; Owner: zkeb_owner
--

GRANT USAGE ON SCHEMA zkeb_maint TO zkeb_maintainer;
GRANT USAGE ON SCHEMA zkeb_maint TO zkeb_auditor;

--
-- Name: FUNCTION create_backup(session_token bytea, backup_id uuid, device_id uuid, backup_name_hash bytea, ciphertext bytea, nonce bytea, auth_tag bytea, signature bytea, expires_at timestamp with time zone); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.create_backup(session_token bytea, backup_id uuid, device_id uuid, backup_name_hash bytea, ciphertext bytea, nonce bytea, auth_tag bytea, signature bytea, expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.create_backup(session_token bytea, backup_id uuid, device_id uuid, backup_name_hash bytea, ciphertext bytea, nonce bytea, auth_tag bytea, signature bytea, expires_at timestamp with time zone) TO zkeb_app;

--
-- Name: FUNCTION delete_account(session_token bytea); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.delete_account(session_token bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.delete_account(session_token bytea) TO zkeb_app;

--
-- Name: FUNCTION delete_backup(session_token bytea, backup_id uuid); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.delete_backup(session_token bytea, backup_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.delete_backup(session_token bytea, backup_id uuid) TO zkeb_app;

--
-- Name: FUNCTION get_backup(session_token bytea, backup_id uuid); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.get_backup(session_token bytea, backup_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.get_backup(session_token bytea, backup_id uuid) TO zkeb_app;

--
-- Name: FUNCTION list_audit_events(session_token bytea, page_size integer, before_id bigint); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.list_audit_events(session_token bytea, page_size integer, before_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.list_audit_events(session_token bytea, page_size integer, before_id bigint) TO zkeb_app;

--
-- Name: FUNCTION list_backups(session_token bytea, page_size integer, before_created_at timestamp with time zone, before_id uuid, only_name_hash bytea, in_trash boolean); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.list_backups(session_token bytea, page_size integer, before_created_at timestamp with time zone, before_id uuid, only_name_hash bytea, in_trash boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.list_backups(session_token bytea, page_size integer, before_created_at timestamp with time zone, before_id uuid, only_name_hash bytea, in_trash boolean) TO zkeb_app;

--
-- Name: FUNCTION list_devices(session_token bytea); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.list_devices(session_token bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.list_devices(session_token bytea) TO zkeb_app;

--
-- Name: FUNCTION list_recovery_shares(session_token bytea); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.list_recovery_shares(session_token bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.list_recovery_shares(session_token bytea) TO zkeb_app;

--
-- Name: FUNCTION login(username_hash bytea, auth_key bytea, device_id uuid, ttl interval); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.login(username_hash bytea, auth_key bytea, device_id uuid, ttl interval) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.login(username_hash bytea, auth_key bytea, device_id uuid, ttl interval) TO zkeb_app;

--
-- Name: FUNCTION logout(session_token bytea); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.logout(session_token bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.logout(session_token bytea) TO zkeb_app;

--
-- Name: FUNCTION prelogin(username_hash bytea); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.prelogin(username_hash bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.prelogin(username_hash bytea) TO zkeb_app;

--
-- Name: FUNCTION purge_backup(session_token bytea, backup_id uuid); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.purge_backup(session_token bytea, backup_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.purge_backup(session_token bytea, backup_id uuid) TO zkeb_app;

--
-- Name: FUNCTION register_device(session_token bytea, device_id_hash bytea, public_key bytea, key_algorithm text); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.register_device(session_token bytea, device_id_hash bytea, public_key bytea, key_algorithm text) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.register_device(session_token bytea, device_id_hash bytea, public_key bytea, key_algorithm text) TO zkeb_app;

--
-- Name: FUNCTION register_user(username_hash bytea, auth_salt bytea, auth_key bytea, kdf_params jsonb); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.register_user(username_hash bytea, auth_salt bytea, auth_key bytea, kdf_params jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.register_user(username_hash bytea, auth_salt bytea, auth_key bytea, kdf_params jsonb) TO zkeb_app;

--
-- Name: FUNCTION restore_backup(session_token bytea, backup_id uuid); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.restore_backup(session_token bytea, backup_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.restore_backup(session_token bytea, backup_id uuid) TO zkeb_app;

--
-- Name: FUNCTION revoke_device(session_token bytea, device_id uuid); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.revoke_device(session_token bytea, device_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.revoke_device(session_token bytea, device_id uuid) TO zkeb_app;

--
-- Name: FUNCTION storage_usage(session_token bytea); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.storage_usage(session_token bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.storage_usage(session_token bytea) TO zkeb_app;

--
-- Name: FUNCTION store_recovery_shares(session_token bytea, threshold integer, guardian_hashes bytea[], share_indexes integer[], encrypted_shares bytea[]); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.store_recovery_shares(session_token bytea, threshold integer, guardian_hashes bytea[], share_indexes integer[], encrypted_shares bytea[]) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.store_recovery_shares(session_token bytea, threshold integer, guardian_hashes bytea[], share_indexes integer[], encrypted_shares bytea[]) TO zkeb_app;

--
-- Name: FUNCTION sync_pull(session_token bytea, after_seq bigint, page_size integer); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.sync_pull(session_token bytea, after_seq bigint, page_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.sync_pull(session_token bytea, after_seq bigint, page_size integer) TO zkeb_app;

--
-- Name: FUNCTION sync_push(session_token bytea, entity_hash bytea, device_id uuid, vector_clock jsonb, lamport bigint, payload bytea); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.sync_push(session_token bytea, entity_hash bytea, device_id uuid, vector_clock jsonb, lamport bigint, payload bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.sync_push(session_token bytea, entity_hash bytea, device_id uuid, vector_clock jsonb, lamport bigint, payload bytea) TO zkeb_app;

--
-- Name: FUNCTION whoami(session_token bytea); Type: ACL; Schema: zkeb_api; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_api.whoami(session_token bytea) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_api.whoami(session_token bytea) TO zkeb_app;

--
-- Name: FUNCTION check_invariants(); Type: ACL; Schema: zkeb_maint; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_maint.check_invariants() FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_maint.check_invariants() TO zkeb_maintainer;

--
-- Name: FUNCTION cleanup_expired_backups(batch_size integer); Type: ACL; Schema: zkeb_maint; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_maint.cleanup_expired_backups(batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_maint.cleanup_expired_backups(batch_size integer) TO zkeb_maintainer;

--
-- Name: FUNCTION export_audit_checkpoint(); Type: ACL; Schema: zkeb_maint; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_maint.export_audit_checkpoint() FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_maint.export_audit_checkpoint() TO zkeb_maintainer;
GRANT ALL ON FUNCTION zkeb_maint.export_audit_checkpoint() TO zkeb_auditor;

--
-- Name: FUNCTION purge_audit_logs(older_than interval, batch_size integer); Type: ACL; Schema: zkeb_maint; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_maint.purge_audit_logs(older_than interval, batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_maint.purge_audit_logs(older_than interval, batch_size integer) TO zkeb_maintainer;

--
-- Name: FUNCTION purge_expired_sessions(batch_size integer); Type: ACL; Schema: zkeb_maint; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_maint.purge_expired_sessions(batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_maint.purge_expired_sessions(batch_size integer) TO zkeb_maintainer;

--
-- Name: FUNCTION purge_trash(older_than interval, batch_size integer); Type: ACL; Schema: zkeb_maint; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_maint.purge_trash(older_than interval, batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_maint.purge_trash(older_than interval, batch_size integer) TO zkeb_maintainer;

--
-- Name: FUNCTION set_quota(user_id uuid, storage_quota_bytes bigint); Type: ACL; Schema: zkeb_maint; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_maint.set_quota(user_id uuid, storage_quota_bytes bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_maint.set_quota(user_id uuid, storage_quota_bytes bigint) TO zkeb_maintainer;

--
-- Name: FUNCTION verify_audit_chain(checkpoint jsonb); Type: ACL; Schema: zkeb_maint; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_maint.verify_audit_chain(checkpoint jsonb) FROM PUBLIC;
GRANT ALL ON FUNCTION zkeb_maint.verify_audit_chain(checkpoint jsonb) TO zkeb_maintainer;
GRANT ALL ON FUNCTION zkeb_maint.verify_audit_chain(checkpoint jsonb) TO zkeb_auditor;

--
-- Name: FUNCTION audit(user_id uuid, action text, success boolean, metadata jsonb); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.audit(user_id uuid, action text, success boolean, metadata jsonb) FROM PUBLIC;

--
-- Name: FUNCTION audit_append(user_id uuid, action text, success boolean, metadata jsonb, prev_event_id bigint, prev_hash bytea); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.audit_append(user_id uuid, action text, success boolean, metadata jsonb, prev_event_id bigint, prev_hash bytea) FROM PUBLIC;

--
-- Name: FUNCTION audit_chain_problems(checkpoint jsonb, with_heads boolean); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.audit_chain_problems(checkpoint jsonb, with_heads boolean) FROM PUBLIC;

--
-- Name: FUNCTION audit_context_hashes(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.audit_context_hashes() FROM PUBLIC;

--
-- Name: FUNCTION audit_logs_append_only(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.audit_logs_append_only() FROM PUBLIC;

--
-- Name: FUNCTION audit_reader_active(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.audit_reader_active() FROM PUBLIC;

--
-- Name: FUNCTION audit_row_hash(prev_hash bytea, user_hash bytea, event_id bigint, action text, success boolean, created_at timestamp with time zone, metadata jsonb); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.audit_row_hash(prev_hash bytea, user_hash bytea, event_id bigint, action text, success boolean, created_at timestamp with time zone, metadata jsonb) FROM PUBLIC;

--
-- Name: FUNCTION audit_user_hash(user_id uuid); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.audit_user_hash(user_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION begin_audit_read(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.begin_audit_read() FROM PUBLIC;

--
-- Name: FUNCTION begin_lookup(username_hash bytea, user_id uuid); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.begin_lookup(username_hash bytea, user_id uuid) FROM PUBLIC;

--
-- Name: FUNCTION begin_maintenance(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.begin_maintenance() FROM PUBLIC;

--
-- Name: FUNCTION begin_session(session_token bytea); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.begin_session(session_token bytea) FROM PUBLIC;

--
-- Name: FUNCTION claimed_user_id(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.claimed_user_id() FROM PUBLIC;

--
-- Name: FUNCTION current_user_id(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.current_user_id() FROM PUBLIC;

--
-- Name: FUNCTION guard_violations(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.guard_violations() FROM PUBLIC;

--
-- Name: FUNCTION hmac_pad(key bytea, pad integer); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.hmac_pad(key bytea, pad integer) FROM PUBLIC;

--
-- Name: FUNCTION hmac_sha256(key bytea, msg bytea); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.hmac_sha256(key bytea, msg bytea) FROM PUBLIC;

--
-- Name: FUNCTION lookup_user_id(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.lookup_user_id() FROM PUBLIC;

--
-- Name: FUNCTION lookup_username_hash(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.lookup_username_hash() FROM PUBLIC;

--
-- Name: FUNCTION maintenance_active(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.maintenance_active() FROM PUBLIC;

--
-- Name: FUNCTION purge_backups(expired boolean, cutoff timestamp with time zone, batch_size integer); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.purge_backups(expired boolean, cutoff timestamp with time zone, batch_size integer) FROM PUBLIC;

--
-- Name: FUNCTION random_bytes32(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.random_bytes32() FROM PUBLIC;

--
-- Name: FUNCTION settings(); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.settings() FROM PUBLIC;

--
-- Name: FUNCTION valid_vector_clock(clock jsonb); Type: ACL; Schema: zkeb_private; Owner: zkeb_owner
--

REVOKE ALL ON FUNCTION zkeb_private.valid_vector_clock(clock jsonb) FROM PUBLIC;

--
-- Name: DEFAULT PRIVILEGES FOR TYPES; Type: DEFAULT ACL; Schema: -; Owner: zkeb_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE zkeb_owner REVOKE ALL ON TYPES  FROM PUBLIC;

--
-- Name: DEFAULT PRIVILEGES FOR FUNCTIONS; Type: DEFAULT ACL; Schema: -; Owner: zkeb_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE zkeb_owner REVOKE ALL ON FUNCTIONS  FROM PUBLIC;

--
-- PostgreSQL database dump complete
--
