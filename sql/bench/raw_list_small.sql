-- Raw twin of list_backups (an account with about --per-user backups).
\set i random(0, :na - 1)
\set n 2 * :i + 1
\set j random(0, :ncur_small - 1)
SELECT b.backup_id, b.backup_name_hash, b.device_id, b.size_bytes, b.created_at, b.expires_at, b.deleted_at
  FROM zkeb.encrypted_backups AS b
 WHERE b.user_id = (SELECT c.user_id FROM bench.cursors_small AS c WHERE c.n = :n AND c.j = :j)
   AND (b.created_at, b.backup_id) < ((SELECT c.created_at FROM bench.cursors_small AS c WHERE c.n = :n AND c.j = :j),
                                      (SELECT c.backup_id FROM bench.cursors_small AS c WHERE c.n = :n AND c.j = :j))
   AND b.deleted_at IS NULL
   AND (b.expires_at IS NULL OR b.expires_at > pg_catalog.now())
 ORDER BY b.created_at DESC, b.backup_id DESC
 LIMIT 50;
