-- Raw twin of login: the account row by username hash with the verifier
-- compared, as a superuser (no session row, no counter, no audit).
\set i random(0, :na - 1)
\set n 2 * :i + 1
SELECT u.user_id, u.account_status, u.locked_until, u.failed_login_count
  FROM zkeb.users AS u
 WHERE u.username_hash = (SELECT b.username_hash FROM bench.users AS b WHERE b.n = :n)
   AND u.auth_verifier = pg_catalog.sha256(u.auth_salt || (SELECT b.auth_key FROM bench.users AS b WHERE b.n = :n));
