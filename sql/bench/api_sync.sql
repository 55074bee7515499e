-- sync_push of one of nent entities of this client's own device; the clock
-- and Lamport value are the wall clock in microseconds, so every push
-- dominates the device's previous one (status 'applied').
\set e random(0, :nent - 1)
SELECT r.*
  FROM bench.sync_slots AS s
 CROSS JOIN LATERAL (
        SELECT (EXTRACT(EPOCH FROM pg_catalog.clock_timestamp()) * 1000000)::bigint AS l) AS t
 CROSS JOIN LATERAL zkeb_api.sync_push(
           s.token,
           pg_catalog.sha256(pg_catalog.convert_to('zkeb-bench-entity:' || s.c || ':' || :e, 'UTF8')),
           s.device_id,
           pg_catalog.jsonb_build_object(s.device_id::text, t.l),
           t.l,
           s.payload) AS r
 WHERE s.c = :client_id;
