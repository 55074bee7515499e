-- Deploy zkeb:function_api_store_recovery_shares to pg
-- requires: schema_zkeb_api
-- requires: function_private_begin_session
-- requires: policy_sessions
-- requires: policy_users
-- requires: function_private_audit
-- requires: policy_audit_logs
-- requires: policy_recovery_shares
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_api.store_recovery_shares(
    session_token bytea,
    threshold integer,
    guardian_hashes bytea[],
    share_indexes integer[],
    encrypted_shares bytea[])
RETURNS TABLE (recovery_set_id uuid)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

COMMENT ON FUNCTION zkeb_api.store_recovery_shares(bytea, integer, bytea[], integer[], bytea[]) IS
    'Replace the caller''s recovery share set atomically with a new one (guardian hashes, distinct share indexes 1..total, client-encrypted shares, 2 <= threshold <= total <= 255) and return its id. Errors: ZK401 no valid session; ZK403 account suspended; ZK422 bad threshold, arrays of unequal length, non-distinct or out-of-range indexes, wrong hash or share length.';
REVOKE ALL ON FUNCTION zkeb_api.store_recovery_shares(bytea, integer, bytea[], integer[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.store_recovery_shares(bytea, integer, bytea[], integer[], bytea[]) TO zkeb_app;

COMMIT;
