-- login of a random API account: verifier check, failed-login counter,
-- new session (token hash stored), audit chain.
\set i random(0, :na - 1)
\set n 2 * :i + 1
SELECT *
  FROM zkeb_api.login(
           (SELECT u.username_hash FROM bench.users AS u WHERE u.n = :n),
           (SELECT u.auth_key FROM bench.users AS u WHERE u.n = :n));
