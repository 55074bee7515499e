-- Raw twin of trash + restore: two single-row UPDATEs by primary key.
\set t random(0, :ntrash - 1)
\set k :client_id * :ntrash + :t
UPDATE zkeb.encrypted_backups AS b SET deleted_at = pg_catalog.now()
 WHERE b.user_id = (SELECT s.user_id FROM bench.trash_samples AS s WHERE s.k = :k)
   AND b.backup_id = (SELECT s.backup_id FROM bench.trash_samples AS s WHERE s.k = :k)
   AND b.deleted_at IS NULL;
UPDATE zkeb.encrypted_backups AS b SET deleted_at = NULL
 WHERE b.user_id = (SELECT s.user_id FROM bench.trash_samples AS s WHERE s.k = :k)
   AND b.backup_id = (SELECT s.backup_id FROM bench.trash_samples AS s WHERE s.k = :k)
   AND b.deleted_at IS NOT NULL;
