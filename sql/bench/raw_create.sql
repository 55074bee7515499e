-- Raw twin of create_backup: the single-row INSERT alone, as a superuser
-- (no session, no RLS, no quota, no audit). Raw accounts only (even n).
\set i random(0, :nr - 1)
\set n 2 * :i + 2
\set p random(0, 255)
INSERT INTO zkeb.encrypted_backups
       (user_id, backup_id, device_id, backup_name_hash, ciphertext, nonce, auth_tag, signature,
        key_algorithm, size_bytes)
SELECT u.user_id, pg_catalog.gen_random_uuid(), u.device_id, p.name_hash,
       p.ciphertext, p.nonce, p.auth_tag, p.signature, 'ed25519', pg_catalog.octet_length(p.ciphertext)
  FROM bench.users AS u
  JOIN bench.payloads AS p ON p.k = :p
 WHERE u.n = :n
RETURNING created_at;
