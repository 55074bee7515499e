-- Deploy zkeb:table_settings to pg
-- requires: schema_zkeb_private
-- requires: function_private_random_bytes32
-- requires: function_private_hmac_pad
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- One row of deployment settings. The keys in it (audit pepper, prelogin
-- key) never leave the database; only the owner's functions read it.
CREATE TABLE zkeb_private.settings (
    id                  boolean     NOT NULL DEFAULT true,
    default_quota_bytes bigint      NOT NULL DEFAULT 1073741824,
    max_backup_bytes    bigint      NOT NULL DEFAULT 67108864,
    max_sync_payload_bytes integer  NOT NULL DEFAULT 65536,
    trash_retention     interval    NOT NULL DEFAULT '30 days',
    audit_retention     interval    NOT NULL DEFAULT '6 years',
    lockout_threshold   integer     NOT NULL DEFAULT 10,
    lockout_duration    interval    NOT NULL DEFAULT '15 minutes',
    audit_downloads     boolean     NOT NULL DEFAULT false,
    default_kdf_params  jsonb       NOT NULL
        DEFAULT '{"alg": "argon2id", "mem_kib": 65536, "iterations": 3, "parallelism": 1}',
    audit_pepper        bytea       NOT NULL DEFAULT zkeb_private.random_bytes32(),
    prelogin_key        bytea       NOT NULL DEFAULT zkeb_private.random_bytes32(),
    -- The HMAC block keys of the pepper, derived (never set by hand), so the
    -- audit hash is sha256(opad || sha256(ipad || message)).
    audit_pepper_ipad   bytea       GENERATED ALWAYS AS (zkeb_private.hmac_pad(audit_pepper, 54)) STORED,
    audit_pepper_opad   bytea       GENERATED ALWAYS AS (zkeb_private.hmac_pad(audit_pepper, 92)) STORED,
    CONSTRAINT settings_pkey PRIMARY KEY (id),
    CONSTRAINT settings_single_row CHECK (id),
    CONSTRAINT settings_default_quota_bytes_check CHECK (default_quota_bytes >= 0),
    CONSTRAINT settings_max_backup_bytes_check CHECK (max_backup_bytes BETWEEN 1 AND 1073741824),
    CONSTRAINT settings_max_sync_payload_bytes_check CHECK (max_sync_payload_bytes BETWEEN 0 AND 1048576),
    CONSTRAINT settings_trash_retention_check CHECK (trash_retention >= interval '0'),
    CONSTRAINT settings_audit_retention_check CHECK (audit_retention >= interval '1 day'),
    CONSTRAINT settings_lockout_threshold_check CHECK (lockout_threshold BETWEEN 1 AND 1000),
    CONSTRAINT settings_lockout_duration_check CHECK (lockout_duration > interval '0'),
    CONSTRAINT settings_default_kdf_params_check
        CHECK (pg_catalog.jsonb_typeof(default_kdf_params) = 'object'
               AND octet_length(default_kdf_params::text) <= 1024),
    CONSTRAINT settings_audit_pepper_check CHECK (octet_length(audit_pepper) = 32),
    CONSTRAINT settings_prelogin_key_check CHECK (octet_length(prelogin_key) = 32),
    CONSTRAINT settings_audit_pepper_ipad_check CHECK (octet_length(audit_pepper_ipad) = 64),
    CONSTRAINT settings_audit_pepper_opad_check CHECK (octet_length(audit_pepper_opad) = 64)
);

INSERT INTO zkeb_private.settings DEFAULT VALUES;

ALTER TABLE zkeb_private.settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE zkeb_private.settings FORCE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE zkeb_private.settings FROM PUBLIC;

COMMENT ON TABLE zkeb_private.settings IS 'Deployment settings, exactly one row; readable by the owner''s functions only.';
COMMENT ON COLUMN zkeb_private.settings.id IS 'Always true: makes the table hold a single row.';
COMMENT ON COLUMN zkeb_private.settings.default_quota_bytes IS 'Storage quota of a new user, in bytes (default 1 GiB).';
COMMENT ON COLUMN zkeb_private.settings.max_backup_bytes IS 'Largest ciphertext create_backup accepts, in bytes (default 64 MiB; larger is ZK413).';
COMMENT ON COLUMN zkeb_private.settings.max_sync_payload_bytes IS 'Largest sync_push payload, in bytes (default 64 KiB; larger is ZK413).';
COMMENT ON COLUMN zkeb_private.settings.trash_retention IS 'How long trashed backups stay before purge_trash removes them.';
COMMENT ON COLUMN zkeb_private.settings.audit_retention IS 'How long audit events are kept before purge_audit_logs removes them.';
COMMENT ON COLUMN zkeb_private.settings.lockout_threshold IS 'Consecutive failed logins that lock an account.';
COMMENT ON COLUMN zkeb_private.settings.lockout_duration IS 'How long a locked account refuses logins.';
COMMENT ON COLUMN zkeb_private.settings.audit_downloads IS 'When true, get_backup writes a backup_download audit event.';
COMMENT ON COLUMN zkeb_private.settings.default_kdf_params IS 'KDF parameters prelogin returns for unknown users.';
COMMENT ON COLUMN zkeb_private.settings.audit_pepper IS 'Key of the keyed hash that pseudonymises user ids in the audit log.';
COMMENT ON COLUMN zkeb_private.settings.audit_pepper_ipad IS 'HMAC-SHA256 inner block key of audit_pepper (generated: the pepper zero-padded to 64 bytes XOR 0x36).';
COMMENT ON COLUMN zkeb_private.settings.audit_pepper_opad IS 'HMAC-SHA256 outer block key of audit_pepper (generated: the pepper zero-padded to 64 bytes XOR 0x5c).';
COMMENT ON COLUMN zkeb_private.settings.prelogin_key IS 'Key from which prelogin derives deterministic fake salts for unknown users.';

COMMIT;
