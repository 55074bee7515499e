-- Deploy zkeb:table_audit_logs to pg
-- requires: schema_zkeb
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE TABLE zkeb.audit_logs (
    user_hash  bytea       NOT NULL,
    event_id   bigint      NOT NULL,
    action     text        NOT NULL,
    success    boolean     NOT NULL,
    metadata   jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    prev_hash  bytea       NOT NULL,
    row_hash   bytea       NOT NULL,
    CONSTRAINT audit_logs_pkey PRIMARY KEY (user_hash, event_id),
    CONSTRAINT audit_logs_user_hash_check CHECK (octet_length(user_hash) = 32),
    CONSTRAINT audit_logs_event_id_check CHECK (event_id >= 1),
    CONSTRAINT audit_logs_action_check CHECK (action IN (
        'register', 'login_ok', 'login_denied', 'login_locked', 'logout',
        'device_register', 'device_revoke',
        'backup_create', 'backup_delete', 'backup_restore', 'backup_purge', 'backup_download',
        'recovery_shares_store', 'account_delete', 'quota_set',
        'maint_cleanup_expired', 'maint_purge_trash', 'maint_purge_sessions', 'maint_purge_audit',
        'audit_retention_anchor')),
    CONSTRAINT audit_logs_metadata_check
        CHECK (pg_catalog.jsonb_typeof(metadata) = 'object' AND octet_length(metadata::text) <= 4096),
    CONSTRAINT audit_logs_prev_hash_check CHECK (octet_length(prev_hash) = 32),
    CONSTRAINT audit_logs_row_hash_check CHECK (octet_length(row_hash) = 32)
);

-- Retention (purge_audit_logs) takes the oldest events in created_at order:
-- a range scan of this index, so a batch costs what it deletes, not what the
-- table holds. Retention anchors are left out: a chain that stays quiet keeps
-- its anchor for good, and batches must not step over those each time.
CREATE INDEX audit_logs_created_at_idx ON zkeb.audit_logs (created_at)
    WHERE action <> 'audit_retention_anchor';

ALTER TABLE zkeb.audit_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE zkeb.audit_logs FORCE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE zkeb.audit_logs FROM PUBLIC;

COMMENT ON TABLE zkeb.audit_logs IS 'Append-only audit log, hash-chained per pseudonymised user (and one system chain).';
COMMENT ON COLUMN zkeb.audit_logs.user_hash IS 'Keyed hash (HMAC with the settings pepper) of the user id; the system chain has its own hash.';
COMMENT ON COLUMN zkeb.audit_logs.event_id IS 'Position in the chain: 1, 2, 3, ... per user_hash.';
COMMENT ON COLUMN zkeb.audit_logs.action IS 'What happened, from a fixed set; audit_retention_anchor marks where retention cut the chain (it carries the last removed event''s position and hashes).';
COMMENT ON COLUMN zkeb.audit_logs.success IS 'Whether the action succeeded.';
COMMENT ON COLUMN zkeb.audit_logs.metadata IS 'Small JSON object without personal data (ids are random uuids, no IP or user agent).';
COMMENT ON COLUMN zkeb.audit_logs.created_at IS 'When the event was written.';
COMMENT ON COLUMN zkeb.audit_logs.prev_hash IS 'row_hash of the previous event of the chain (32 zero bytes for the first).';
COMMENT ON COLUMN zkeb.audit_logs.row_hash IS 'sha256(prev_hash || canonical encoding of the row), see zkeb_private.audit_row_hash and docs/audit.md.';

COMMIT;
