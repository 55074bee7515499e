-- Verify every audit chain (read-only; writes no event).  Needs a member of
-- zkeb_auditor or zkeb_maintainer (or the deployer).
SELECT v.ok, v.checked_count, v.first_bad_event_id
  FROM zkeb_maint.verify_audit_chain() AS v
