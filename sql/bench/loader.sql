-- zkeb-db bench: the data loader and the helper tables the pgbench scripts read.
--
-- Run once by `zkeb-db bench` as a superuser in the scratch database it
-- created, after the project is deployed. Everything here lives in the schema
-- `bench`, outside the four project schemas, so `zkeb-db check` never sees it.
--
-- Accounts, sessions and devices are made through the API (zkeb_api.register_user,
-- login, register_device, zkeb_maint.set_quota), so their audit events are real
-- chained events. Only the bulk backups are written set-based, by the superuser
-- (COPY is refused on RLS tables, and a million API calls would take an hour):
-- INSERT ... SELECT over generate_series, then storage_used_bytes is set to the
-- exact sums. The bulk rows get no audit events: a chain holds either proper
-- chained events or none, and none is what verify_audit_chain() sees for them.
--
-- Users: n = 0 is the heavy user; n = 1 .. nusers are the others. Odd n are
-- written by the API workloads, even n by their raw-SQL twins, so that the
-- raw twins (which charge no quota, by design) never touch an account the
-- API writes to; every account is read by both.
--
-- Backups of user n are numbered i = 1 (newest) .. count; their ids are
-- md5(user_id || ':' || i)::uuid, so any of them can be found again without
-- a scan. Classes: i % 100 = 7 is in the trash; i % 10 = 3 expires in a
-- year (still live); i % 10 = 5 is reserved for the trash/restore workload.

CREATE SCHEMA bench;
COMMENT ON SCHEMA bench IS 'zkeb-db bench: loader functions and the tables the pgbench scripts read.';

-- Incompressible filler (sha256 chains): 1024 blocks of 4,064 bytes. pglz
-- gives up on them, so TOAST stores every ciphertext at its full size.
CREATE TABLE bench.blobs (
    k    integer PRIMARY KEY,
    blob bytea   NOT NULL
);

-- Payloads for the create workloads: 1-4 KiB ciphertext, valid lengths of
-- nonce (12), tag (16) and ed25519 signature (64).
CREATE TABLE bench.payloads (
    k          integer PRIMARY KEY,
    name_hash  bytea   NOT NULL,
    ciphertext bytea   NOT NULL,
    nonce      bytea   NOT NULL,
    auth_tag   bytea   NOT NULL,
    signature  bytea   NOT NULL,
    sync_payload bytea NOT NULL
);

-- The accounts, with what a client would hold: the auth key (a benchmark
-- account, never a real one), the session token login returned, the device.
CREATE TABLE bench.users (
    n             integer PRIMARY KEY,
    kind          text    NOT NULL CHECK (kind IN ('heavy', 'api', 'raw')),
    username_hash bytea   NOT NULL,
    auth_salt     bytea   NOT NULL,
    auth_key      bytea   NOT NULL,
    user_id       uuid,
    token         bytea,
    device_id     uuid,
    backups       integer NOT NULL
);

-- Keyset positions: row (j) is a (created_at, backup_id) cursor at a random
-- depth of the heavy user's live list; j = 0 is the first page ('infinity').
CREATE TABLE bench.cursors_heavy (
    j          integer PRIMARY KEY,
    user_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    backup_id  uuid        NOT NULL
);

-- The same for every other account: ncur cursors per user.
CREATE TABLE bench.cursors_small (
    n          integer     NOT NULL,
    j          integer     NOT NULL,
    user_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    backup_id  uuid        NOT NULL,
    PRIMARY KEY (n, j)
);

-- Live backups for get_backup (never trashed, never touched by trash/restore).
CREATE TABLE bench.samples (
    k         integer PRIMARY KEY,
    n         integer NOT NULL,
    user_id   uuid    NOT NULL,
    token     bytea   NOT NULL,
    backup_id uuid    NOT NULL
);

-- Backups the trash/restore workload moves, ntrash per pgbench client, so
-- two clients never trash the same backup.
CREATE TABLE bench.trash_samples (
    k         integer PRIMARY KEY,
    n         integer NOT NULL,
    user_id   uuid    NOT NULL,
    token     bytea   NOT NULL,
    backup_id uuid    NOT NULL
);

-- One sync slot per pgbench client id: its own device (Lamport values are
-- per device and must increase, so two clients never share one).
CREATE TABLE bench.sync_slots (
    c         integer PRIMARY KEY,
    n         integer NOT NULL,
    user_id   uuid    NOT NULL,
    token     bytea   NOT NULL,
    device_id uuid    NOT NULL,
    payload   bytea   NOT NULL
);
CREATE TABLE bench.raw_sync_slots (
    c         integer PRIMARY KEY,
    n         integer NOT NULL,
    user_id   uuid    NOT NULL,
    device_id uuid    NOT NULL,
    payload   bytea   NOT NULL
);

-- Filler and payloads.
CREATE FUNCTION bench.make_blobs() RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO bench.blobs (k, blob)
    SELECT b.k,
           (SELECT pg_catalog.string_agg(
                       pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-blob:' || b.k || ':' || j, 'UTF8')),
                       ''::bytea ORDER BY j)
              FROM pg_catalog.generate_series(1, 127) AS j)
      FROM pg_catalog.generate_series(0, 1023) AS b(k);
    INSERT INTO bench.payloads (k, name_hash, ciphertext, nonce, auth_tag, signature, sync_payload)
    SELECT p.k,
           pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-name:' || p.k, 'UTF8')),
           pg_catalog.substr(b.blob, 1, 1024 + (p.k * 12) % 3040),
           pg_catalog.substr(h.h, 1, 12),
           pg_catalog.substr(h.h, 13, 16),
           h.h || pg_catalog.sha256(h.h),
           pg_catalog.substr(b.blob, 1, 256)
      FROM pg_catalog.generate_series(0, 255) AS p(k)
      JOIN bench.blobs AS b ON b.k = (p.k * 37) % 1024
     CROSS JOIN LATERAL (SELECT pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-payload:' || p.k, 'UTF8')) AS h) AS h;
    RETURN 1024;
END
$$;

-- The accounts to create: credentials only (the API makes the rest).
CREATE FUNCTION bench.plan_users(nusers integer, heavy_backups integer, per_user integer)
RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO bench.users (n, kind, username_hash, auth_salt, auth_key, backups)
    SELECT n,
           CASE WHEN n = 0 THEN 'heavy' WHEN n % 2 = 1 THEN 'api' ELSE 'raw' END,
           pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-user:' || n, 'UTF8')),
           pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-salt:' || n, 'UTF8')),
           pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-auth-key:' || n, 'UTF8')),
           CASE WHEN n = 0 THEN heavy_backups ELSE per_user END
      FROM pg_catalog.generate_series(0, nusers) AS n;
    SELECT pg_catalog.count(*)::integer FROM bench.users;
$$;

-- Run by the benchmark's application login role (a member of zkeb_app):
-- register, log in and register a device through the API.
CREATE FUNCTION bench.register_users(n_from integer, n_to integer) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _u record;
    _login record;
    _count integer := 0;
BEGIN
    FOR _u IN SELECT * FROM bench.users WHERE n BETWEEN n_from AND n_to AND user_id IS NULL ORDER BY n LOOP
        PERFORM zkeb_api.register_user(
            _u.username_hash, _u.auth_salt, _u.auth_key,
            '{"alg": "argon2id", "mem_kib": 65536, "iterations": 3, "parallelism": 1}'::jsonb);
        SELECT l.status, l.session_token, l.user_id INTO _login
          FROM zkeb_api.login(_u.username_hash, _u.auth_key, NULL::uuid, interval '7 days') AS l;
        IF _login.status IS DISTINCT FROM 'ok' THEN
            RAISE EXCEPTION 'bench: login of the new account % answered %', _u.n, _login.status;
        END IF;
        UPDATE bench.users
           SET user_id = _login.user_id,
               token = _login.session_token,
               device_id = (SELECT * FROM zkeb_api.register_device(
                                _login.session_token,
                                pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-device:' || _u.n, 'UTF8')),
                                pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-pubkey:' || _u.n, 'UTF8')),
                                'ed25519'))
         WHERE n = _u.n;
        _count := _count + 1;
    END LOOP;
    RETURN _count;
END
$$;

-- Also run by the application role: one device per pgbench client id for
-- sync_push, on the API accounts in turn.
CREATE FUNCTION bench.register_sync_slots(nslots integer) RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _napi integer := (SELECT pg_catalog.count(*) FROM bench.users WHERE kind = 'api');
    _nraw integer := (SELECT pg_catalog.count(*) FROM bench.users WHERE kind = 'raw');
    _u record;
BEGIN
    FOR c IN 0 .. nslots - 1 LOOP
        SELECT * INTO _u FROM bench.users WHERE n = 2 * (c % _napi) + 1;
        INSERT INTO bench.sync_slots (c, n, user_id, token, device_id, payload)
        VALUES (c, _u.n, _u.user_id, _u.token,
                (SELECT * FROM zkeb_api.register_device(
                     _u.token,
                     pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-sync-device:' || c, 'UTF8')),
                     pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-sync-pubkey:' || c, 'UTF8')),
                     'ed25519')),
                (SELECT p.sync_payload FROM bench.payloads AS p WHERE p.k = c % 256));
        SELECT * INTO _u FROM bench.users WHERE n = 2 * (c % _nraw) + 2;
        INSERT INTO bench.raw_sync_slots (c, n, user_id, device_id, payload)
        VALUES (c, _u.n, _u.user_id, _u.device_id,
                (SELECT p.sync_payload FROM bench.payloads AS p WHERE p.k = c % 256));
    END LOOP;
    RETURN nslots;
END
$$;

-- The bulk path (superuser): backups i_from .. i_to of user n. The heavy
-- user's span one a minute or so over about two years, the others' one every
-- ~40 minutes; sizes 1-4 KiB; a sha256 of the id leads each ciphertext so no
-- two are equal.
CREATE FUNCTION bench.load_backups(p_n integer, i_from integer, i_to integer, t0 timestamptz)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _u bench.users;
    _step double precision;
    _count bigint;
BEGIN
    SELECT * INTO STRICT _u FROM bench.users WHERE n = p_n;
    _step := CASE WHEN _u.kind = 'heavy' THEN 63.0 ELSE 2400.0 END;
    INSERT INTO zkeb.encrypted_backups
        (user_id, backup_id, device_id, backup_name_hash, ciphertext, nonce, auth_tag, signature,
         key_algorithm, size_bytes, created_at, expires_at, deleted_at)
    SELECT _u.user_id, r.id, _u.device_id,
           pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-name:' || p_n || ':' || (i % 5000), 'UTF8')),
           r.ct, pg_catalog.substr(r.h, 1, 12), pg_catalog.substr(r.h, 13, 16),
           r.h || pg_catalog.sha256(r.h), 'ed25519', pg_catalog.octet_length(r.ct),
           r.created_at,
           CASE WHEN i % 10 = 3 THEN t0 + interval '365 days' END,
           CASE WHEN i % 100 = 7 THEN LEAST(r.created_at + interval '1 day', t0) END
      FROM pg_catalog.generate_series(i_from, i_to) AS i
     CROSS JOIN LATERAL (
            SELECT md5(_u.user_id::text || ':' || i)::uuid AS id) AS g
     CROSS JOIN LATERAL (
            SELECT g.id,
                   pg_catalog.sha256(pg_catalog.uuid_send(g.id)) AS h,
                   pg_catalog.sha256(pg_catalog.uuid_send(g.id))
                       || pg_catalog.substr(b.blob, 1, 992 + ((i::bigint * 7919) % 3072)::integer) AS ct,
                   t0 - pg_catalog.make_interval(secs => i * _step + ((i::bigint * 2654435761) % 1000) / 1000.0)
                       AS created_at
              FROM bench.blobs AS b
             WHERE b.k = ((i::bigint * 40503) % 1024)::integer) AS r;
    GET DIAGNOSTICS _count = ROW_COUNT;
    RETURN _count;
END
$$;

-- After the bulk load: storage_used_bytes = the exact sums (superuser UPDATE:
-- the bulk path charges nothing on its own).
CREATE FUNCTION bench.settle_usage() RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (
        SELECT b.user_id, pg_catalog.sum(b.size_bytes)::bigint AS used
          FROM zkeb.encrypted_backups AS b
         GROUP BY b.user_id)
    UPDATE zkeb.users AS u SET storage_used_bytes = s.used
      FROM s WHERE u.user_id = s.user_id;
    SELECT COALESCE(pg_catalog.sum(storage_used_bytes), 0)::bigint FROM zkeb.users;
$$;

-- Cursors, samples: read from the loaded data.
CREATE FUNCTION bench.build_cursors(heavy_cursors integer, small_cursors integer) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET work_mem = '256MB'
AS $$
BEGIN
    -- Cursor j = 0 is the first page; cursor j > 0 sits at a pseudo-random
    -- depth in 1 .. live - 50 of the user's live list, so every page is full.
    INSERT INTO bench.cursors_heavy (j, user_id, created_at, backup_id)
    SELECT 0, u.user_id, 'infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff'
      FROM bench.users AS u WHERE u.n = 0;
    INSERT INTO bench.cursors_small (n, j, user_id, created_at, backup_id)
    SELECT u.n, 0, u.user_id, 'infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff'
      FROM bench.users AS u WHERE u.n > 0;
    WITH live AS (
        SELECT u.n, u.user_id, pg_catalog.count(*) AS live
          FROM bench.users AS u
          JOIN zkeb.encrypted_backups AS b ON b.user_id = u.user_id
         WHERE b.deleted_at IS NULL
         GROUP BY u.n, u.user_id),
    targets AS (
        SELECT l.n, l.user_id, d.j,
               1 + ((d.j::bigint * 2654435761 + l.n::bigint * 40503)
                    % GREATEST(l.live - 50, 1)) AS depth
          FROM live AS l
         CROSS JOIN LATERAL pg_catalog.generate_series(
                1, CASE WHEN l.n = 0 THEN heavy_cursors ELSE small_cursors END - 1) AS d(j)),
    ranked AS (
        SELECT b.user_id, b.created_at, b.backup_id,
               pg_catalog.row_number() OVER (PARTITION BY b.user_id
                                             ORDER BY b.created_at DESC, b.backup_id DESC) AS rn
          FROM zkeb.encrypted_backups AS b
         WHERE b.deleted_at IS NULL
           AND b.user_id IN (SELECT u.user_id FROM bench.users AS u)),
    picked AS (
        SELECT t.n, t.j, t.user_id, r.created_at, r.backup_id
          FROM targets AS t
          JOIN ranked AS r ON r.user_id = t.user_id AND r.rn = t.depth),
    heavy AS (
        INSERT INTO bench.cursors_heavy (j, user_id, created_at, backup_id)
        SELECT p.j, p.user_id, p.created_at, p.backup_id FROM picked AS p WHERE p.n = 0
        RETURNING 1)
    INSERT INTO bench.cursors_small (n, j, user_id, created_at, backup_id)
    SELECT p.n, p.j, p.user_id, p.created_at, p.backup_id FROM picked AS p WHERE p.n > 0;
    RETURN (SELECT pg_catalog.count(*) FROM bench.cursors_heavy)
         + (SELECT pg_catalog.count(*) FROM bench.cursors_small);
END
$$;

-- ntrash backups of class i % 10 = 5 per client for the trash/restore
-- workload (clients that share an account take disjoint ranges).
CREATE FUNCTION bench.trash_capacity(nclients integer) RETURNS integer
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT LEAST(20, pg_catalog.min(u.backups) / 10
                     / ((nclients + pg_catalog.count(*) - 1) / pg_catalog.count(*)))::integer
      FROM bench.users AS u WHERE u.kind = 'api';
$$;

CREATE FUNCTION bench.build_samples(nsamples integer, nclients integer, ntrash integer) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _nusers integer := (SELECT pg_catalog.max(n) FROM bench.users);
    _napi integer := (SELECT pg_catalog.count(*) FROM bench.users WHERE kind = 'api');
BEGIN
    -- get_backup: a quarter in the heavy user, the rest spread over the
    -- others; never in the trash (i % 100 = 7) nor the trash workload's (i % 10 = 5).
    INSERT INTO bench.samples (k, n, user_id, token, backup_id)
    SELECT p.k, u.n, u.user_id, u.token,
           md5(u.user_id::text || ':' || CASE WHEN s.i % 10 = 5 OR s.i % 100 = 7 THEN s.i - 1
                                              ELSE s.i END)::uuid
      FROM (SELECT k,
                   CASE WHEN k % 4 = 0 THEN 0 ELSE 1 + ((k::bigint * 40503) % _nusers)::integer END AS n,
                   k::bigint * 2654435761 AS h
              FROM pg_catalog.generate_series(0, nsamples - 1) AS k) AS p
      JOIN bench.users AS u ON u.n = p.n
     CROSS JOIN LATERAL (SELECT 1 + p.h % u.backups AS i) AS s;
    INSERT INTO bench.trash_samples (k, n, user_id, token, backup_id)
    SELECT c * ntrash + t, u.n, u.user_id, u.token,
           md5(u.user_id::text || ':' || (5 + 10 * (t + (c / _napi) * ntrash)))::uuid
      FROM pg_catalog.generate_series(0, nclients - 1) AS c
     CROSS JOIN pg_catalog.generate_series(0, ntrash - 1) AS t
      JOIN bench.users AS u ON u.n = 2 * (c % _napi) + 1;
    RETURN (SELECT pg_catalog.count(*) FROM bench.samples)
         + (SELECT pg_catalog.count(*) FROM bench.trash_samples);
END
$$;

-- The cleanup workload: `total` expired backups spread over the first
-- `nusers` API accounts (those its 16 clients list and create for), charged
-- to their quota exactly as a create would, so check_invariants() stays clean.
CREATE FUNCTION bench.plant_expired(p_round integer, nusers integer, total integer) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    _count bigint;
BEGIN
    WITH ins AS (
        INSERT INTO zkeb.encrypted_backups
            (user_id, backup_id, device_id, backup_name_hash, ciphertext, nonce, auth_tag, signature,
             key_algorithm, size_bytes, created_at, expires_at)
        SELECT u.user_id, r.id, u.device_id,
               pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-expired-name:' || q, 'UTF8')),
               r.ct, pg_catalog.substr(r.h, 1, 12), pg_catalog.substr(r.h, 13, 16),
               r.h || pg_catalog.sha256(r.h), 'ed25519', pg_catalog.octet_length(r.ct),
               pg_catalog.now() - pg_catalog.make_interval(secs => 60 + (q::bigint * 2654435761) % 2592000),
               pg_catalog.now() - interval '1 minute'
          FROM pg_catalog.generate_series(0, total - 1) AS q
          JOIN bench.users AS u ON u.n = 2 * (q % nusers) + 1
         CROSS JOIN LATERAL (SELECT md5('zkeb-bench-expired:' || p_round || ':' || q)::uuid AS id) AS g
         CROSS JOIN LATERAL (
                SELECT g.id,
                       pg_catalog.sha256(pg_catalog.uuid_send(g.id)) AS h,
                       pg_catalog.sha256(pg_catalog.uuid_send(g.id))
                           || pg_catalog.substr(b.blob, 1, 992 + ((q::bigint * 7919) % 3072)::integer) AS ct
                  FROM bench.blobs AS b
                 WHERE b.k = ((q::bigint * 40503) % 1024)::integer) AS r
        RETURNING user_id, size_bytes),
    s AS (SELECT ins.user_id, pg_catalog.sum(ins.size_bytes)::bigint AS bytes, pg_catalog.count(*) AS c
            FROM ins GROUP BY ins.user_id),
    upd AS (UPDATE zkeb.users AS u SET storage_used_bytes = u.storage_used_bytes + s.bytes
              FROM s WHERE u.user_id = s.user_id RETURNING s.c)
    SELECT COALESCE(pg_catalog.sum(upd.c), 0) INTO _count FROM upd;
    RETURN _count;
END
$$;

-- Expired backups still in the table (the cleanup workload checks it is 0 after a batch).
CREATE FUNCTION bench.expired_left() RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.count(*) FROM zkeb.encrypted_backups WHERE expires_at <= pg_catalog.now();
$$;
