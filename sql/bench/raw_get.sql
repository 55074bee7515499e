-- Raw twin of get_backup: primary-key SELECT of the backup and of its
-- signing device's public key, live rows only.
\set k random(0, :nsamples - 1)
SELECT b.ciphertext, b.nonce, b.auth_tag, b.signature, b.device_id, d.public_key, d.key_algorithm, b.created_at
  FROM zkeb.encrypted_backups AS b
  JOIN zkeb.devices AS d ON d.user_id = b.user_id AND d.device_id = b.device_id
 WHERE b.user_id = (SELECT s.user_id FROM bench.samples AS s WHERE s.k = :k)
   AND b.backup_id = (SELECT s.backup_id FROM bench.samples AS s WHERE s.k = :k)
   AND b.deleted_at IS NULL
   AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now());
