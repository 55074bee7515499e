-- Raw twin of sync_push: take the next per-user seq under the user's row
-- lock and upsert the entity's head, in one statement, as a superuser.
\set e random(0, :nent - 1)
WITH s AS (
    SELECT * FROM bench.raw_sync_slots WHERE c = :client_id),
q AS (
    UPDATE zkeb.users AS u SET sync_seq = u.sync_seq + 1
      FROM s
     WHERE u.user_id = s.user_id
    RETURNING u.user_id, u.sync_seq, s.device_id, s.c, s.payload),
e AS (
    SELECT q.*,
           pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-raw-entity:' || q.c || ':' || :e, 'UTF8')) AS h,
           (EXTRACT(EPOCH FROM pg_catalog.clock_timestamp()) * 1000000)::bigint AS l
      FROM q)
INSERT INTO zkeb.sync_metadata AS m
       (user_id, entity_hash, version_id, device_id, vector_clock, lamport, seq, payload)
SELECT e.user_id, e.h, pg_catalog.encode(pg_catalog.substr(e.h, 1, 16), 'hex')::uuid, e.device_id,
       pg_catalog.jsonb_build_object(e.device_id::text, e.l), e.l, e.sync_seq, e.payload
  FROM e
    ON CONFLICT ON CONSTRAINT sync_metadata_pkey DO UPDATE
   SET device_id = EXCLUDED.device_id, vector_clock = EXCLUDED.vector_clock,
       lamport = EXCLUDED.lamport, seq = EXCLUDED.seq, payload = EXCLUDED.payload,
       updated_at = pg_catalog.now()
RETURNING m.seq;
