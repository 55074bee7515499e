-- list_backups, page of 50, at a random depth of the heavy user's list
-- (cursor 0 = the first page).
\set j random(0, :ncur_heavy - 1)
SELECT *
  FROM zkeb_api.list_backups(
           (SELECT u.token FROM bench.users AS u WHERE u.n = 0),
           50,
           (SELECT c.created_at FROM bench.cursors_heavy AS c WHERE c.j = :j),
           (SELECT c.backup_id FROM bench.cursors_heavy AS c WHERE c.j = :j));
