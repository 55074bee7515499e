-- Deploy zkeb:function_api_sync_push to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_valid_vector_clock
-- requires: function_private_settings
-- requires: policy_settings
-- requires: policy_devices
-- requires: policy_sync_metadata
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Vector-clock write of one entity version. Against the stored heads the push
-- is a retry (equal clock: nothing written, same seq), stale (some head
-- dominates it: nothing written), applied (it dominates every head: they are
-- replaced) or conflict (concurrent with a head: it is kept as a sibling; heads
-- it dominates are replaced). Only a write needs a Lamport value above the
-- device's last one. seq values come from the account row, locked for the
-- whole transaction, so they increase in commit order; a head that turns into
-- a sibling gets a new seq too, so readers paging by seq see the change.
CREATE FUNCTION zkeb_api.sync_push(
    session_token bytea,
    entity_hash bytea,
    device_id uuid,
    vector_clock jsonb,
    lamport bigint,
    payload bytea DEFAULT NULL)
RETURNS TABLE (status text, seq bigint, merged_clock jsonb)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

COMMENT ON FUNCTION zkeb_api.sync_push(bytea, bytea, uuid, jsonb, bigint, bytea) IS
    'Push a version of a synced entity with its vector clock: applied when the clock dominates the stored heads (or equals one: a retry), stale when a head dominates it (nothing written), conflict when concurrent (kept as a sibling until a later write dominates them all); returns the seq and the merged clock. Errors: ZK401 no valid session; ZK403 account suspended or the device is revoked; ZK404 no such device for this user; ZK409 a push that would write has a lamport not above the device''s last one, or the same clock is stored with other content; ZK413 payload above max_sync_payload_bytes; ZK422 entity_hash not 32 bytes, NULL device_id, invalid vector clock or negative lamport.';
REVOKE ALL ON FUNCTION zkeb_api.sync_push(bytea, bytea, uuid, jsonb, bigint, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.sync_push(bytea, bytea, uuid, jsonb, bigint, bytea) TO zkeb_app;

COMMIT;
