-- Deploy zkeb:table_users to pg
-- requires: schema_zkeb
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE TABLE zkeb.users (
    user_id             uuid        NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    username_hash       bytea       NOT NULL,
    auth_salt           bytea       NOT NULL,
    auth_verifier       bytea       NOT NULL,
    kdf_params          jsonb       NOT NULL,
    storage_quota_bytes bigint      NOT NULL,
    storage_used_bytes  bigint      NOT NULL DEFAULT 0,
    account_status      text        NOT NULL DEFAULT 'active',
    failed_login_count  integer     NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    sync_seq            bigint      NOT NULL DEFAULT 0,
    audit_event_id      bigint      NOT NULL DEFAULT 0,
    audit_head          bytea,
    created_at          timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT users_pkey PRIMARY KEY (user_id),
    -- The one global unique key besides the audit log: login must find the user.
    CONSTRAINT users_username_hash_key UNIQUE (username_hash),
    CONSTRAINT users_username_hash_check CHECK (octet_length(username_hash) = 32),
    CONSTRAINT users_auth_salt_check CHECK (octet_length(auth_salt) = 32),
    CONSTRAINT users_auth_verifier_check CHECK (octet_length(auth_verifier) = 32),
    CONSTRAINT users_kdf_params_check
        CHECK (pg_catalog.jsonb_typeof(kdf_params) = 'object' AND octet_length(kdf_params::text) <= 1024),
    CONSTRAINT users_storage_quota_bytes_check CHECK (storage_quota_bytes >= 0),
    CONSTRAINT users_storage_used_bytes_check
        CHECK (storage_used_bytes >= 0 AND storage_used_bytes <= storage_quota_bytes),
    CONSTRAINT users_account_status_check CHECK (account_status IN ('active', 'suspended')),
    CONSTRAINT users_failed_login_count_check CHECK (failed_login_count >= 0),
    CONSTRAINT users_sync_seq_check CHECK (sync_seq >= 0),
    CONSTRAINT users_audit_event_id_check CHECK (audit_event_id >= 0),
    CONSTRAINT users_audit_head_check
        CHECK ((audit_event_id = 0 AND audit_head IS NULL)
               OR (audit_event_id > 0 AND octet_length(audit_head) = 32))
);

ALTER TABLE zkeb.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE zkeb.users FORCE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE zkeb.users FROM PUBLIC;

COMMENT ON TABLE zkeb.users IS 'Accounts. Identified by an opaque client-side username hash; only a verifier of the auth key is kept.';
COMMENT ON COLUMN zkeb.users.user_id IS 'Random account id; leads every key of every tenant table.';
COMMENT ON COLUMN zkeb.users.username_hash IS 'Opaque 32-byte hash of the username, computed by the client.';
COMMENT ON COLUMN zkeb.users.auth_salt IS '32-byte salt the client uses to derive its auth key (returned by prelogin).';
COMMENT ON COLUMN zkeb.users.auth_verifier IS 'sha256(auth_salt || auth_key); the auth key itself is never stored.';
COMMENT ON COLUMN zkeb.users.kdf_params IS 'Client KDF parameters (algorithm and cost), a JSON object of at most 1 KiB.';
COMMENT ON COLUMN zkeb.users.storage_quota_bytes IS 'Storage quota in bytes.';
COMMENT ON COLUMN zkeb.users.storage_used_bytes IS 'Bytes of the user''s stored backups (live and trash); never above the quota.';
COMMENT ON COLUMN zkeb.users.account_status IS 'active or suspended (suspended accounts get ZK403 on every session call).';
COMMENT ON COLUMN zkeb.users.failed_login_count IS 'Consecutive failed logins; reset by a successful login.';
COMMENT ON COLUMN zkeb.users.locked_until IS 'Logins are refused with status locked until this time.';
COMMENT ON COLUMN zkeb.users.sync_seq IS 'Last sync sequence number handed out for this user (taken under this row''s lock).';
COMMENT ON COLUMN zkeb.users.audit_event_id IS 'Position of the last event in this user''s audit chain.';
COMMENT ON COLUMN zkeb.users.audit_head IS 'row_hash of the last event in this user''s audit chain.';
COMMENT ON COLUMN zkeb.users.created_at IS 'When the account was registered.';

COMMIT;
