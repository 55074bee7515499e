-- get_backup of a random live backup (a quarter of them the heavy user's).
\set k random(0, :nsamples - 1)
SELECT *
  FROM zkeb_api.get_backup(
           (SELECT s.token FROM bench.samples AS s WHERE s.k = :k),
           (SELECT s.backup_id FROM bench.samples AS s WHERE s.k = :k));
