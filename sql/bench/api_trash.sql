-- Trash then restore one of this client's own backups (two calls, two
-- transactions; pgbench counts the pair as one).
\set t random(0, :ntrash - 1)
\set k :client_id * :ntrash + :t
SELECT *
  FROM zkeb_api.delete_backup(
           (SELECT s.token FROM bench.trash_samples AS s WHERE s.k = :k),
           (SELECT s.backup_id FROM bench.trash_samples AS s WHERE s.k = :k));
SELECT *
  FROM zkeb_api.restore_backup(
           (SELECT s.token FROM bench.trash_samples AS s WHERE s.k = :k),
           (SELECT s.backup_id FROM bench.trash_samples AS s WHERE s.k = :k));
