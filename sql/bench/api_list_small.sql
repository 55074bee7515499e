-- list_backups, page of 50, at a random depth of a random API account
-- (about --per-user backups each).
\set i random(0, :na - 1)
\set n 2 * :i + 1
\set j random(0, :ncur_small - 1)
SELECT *
  FROM zkeb_api.list_backups(
           (SELECT u.token FROM bench.users AS u WHERE u.n = :n),
           50,
           (SELECT c.created_at FROM bench.cursors_small AS c WHERE c.n = :n AND c.j = :j),
           (SELECT c.backup_id FROM bench.cursors_small AS c WHERE c.n = :n AND c.j = :j));
