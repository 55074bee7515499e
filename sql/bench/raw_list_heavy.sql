-- Raw twin of list_backups (heavy user): the same keyset page straight from
-- the table, as a superuser: live rows only, newest first, no ciphertext.
\set j random(0, :ncur_heavy - 1)
SELECT b.backup_id, b.backup_name_hash, b.device_id, b.size_bytes, b.created_at, b.expires_at, b.deleted_at
  FROM zkeb.encrypted_backups AS b
 WHERE b.user_id = (SELECT c.user_id FROM bench.cursors_heavy AS c WHERE c.j = :j)
   AND (b.created_at, b.backup_id) < ((SELECT c.created_at FROM bench.cursors_heavy AS c WHERE c.j = :j),
                                      (SELECT c.backup_id FROM bench.cursors_heavy AS c WHERE c.j = :j))
   AND b.deleted_at IS NULL
   AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now())
 ORDER BY b.created_at DESC, b.backup_id DESC
 LIMIT 50;
