-- create_backup through the API: session check, active device, idempotency,
-- quota charged in the same statement, insert, audit chain.
-- A random API account (odd n) and one of 256 payloads of 1-4 KiB.
\set i random(0, :na - 1)
\set n 2 * :i + 1
\set p random(0, 255)
SELECT r.*
  FROM bench.users AS u
  JOIN bench.payloads AS p ON p.k = :p
 CROSS JOIN LATERAL zkeb_api.create_backup(
           u.token, pg_catalog.gen_random_uuid(), u.device_id, p.name_hash,
           p.ciphertext, p.nonce, p.auth_tag, p.signature) AS r
 WHERE u.n = :n;
