-- Deploy zkeb:function_maint_check_invariants to pg
-- requires: schema_zkeb_maint
-- requires: function_private_begin_maintenance
-- requires: function_private_audit_chain_problems
-- requires: policy_users
-- requires: policy_devices
-- requires: policy_sessions
-- requires: policy_encrypted_backups
-- requires: policy_sync_metadata
-- requires: policy_audit_logs
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Read-only. One row per violation, none when healthy. It names the account
-- where there is one, and never returns stored content (no ciphertext, no
-- hashes of secrets); an entity or chain is named by its opaque hash.
CREATE FUNCTION zkeb_maint.check_invariants()
RETURNS TABLE (invariant text, user_id uuid, detail text)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
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

COMMENT ON FUNCTION zkeb_maint.check_invariants() IS
    'One row per violated invariant (usage differs from the stored backups, usage above quota, orphaned backups, several sync heads not marked as siblings, a valid session of a revoked device, a broken audit chain or head); no rows when healthy. Errors: ZK403 caller is not a member of zkeb_maintainer.';
REVOKE ALL ON FUNCTION zkeb_maint.check_invariants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_maint.check_invariants() TO zkeb_maintainer;

COMMIT;
