-- Revert zkeb:policy_recovery_shares from pg
BEGIN;

DROP POLICY recovery_shares_select_own ON zkeb.recovery_shares;
DROP POLICY recovery_shares_insert_own ON zkeb.recovery_shares;
DROP POLICY recovery_shares_delete_own ON zkeb.recovery_shares;

COMMIT;
