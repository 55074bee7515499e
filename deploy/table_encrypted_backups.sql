-- Deploy zkeb:table_encrypted_backups to pg
-- requires: table_devices
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE TABLE zkeb.encrypted_backups (
    user_id          uuid        NOT NULL,
    backup_id        uuid        NOT NULL,
    device_id        uuid        NOT NULL,
    backup_name_hash bytea       NOT NULL,
    ciphertext       bytea       NOT NULL,
    nonce            bytea       NOT NULL,
    auth_tag         bytea       NOT NULL,
    signature        bytea       NOT NULL,
    key_algorithm    text        NOT NULL,
    size_bytes       bigint      NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at       timestamptz,
    deleted_at       timestamptz,
    CONSTRAINT encrypted_backups_pkey PRIMARY KEY (user_id, backup_id),
    CONSTRAINT encrypted_backups_device_fkey FOREIGN KEY (user_id, device_id)
        REFERENCES zkeb.devices (user_id, device_id),
    CONSTRAINT encrypted_backups_backup_name_hash_check CHECK (octet_length(backup_name_hash) = 32),
    CONSTRAINT encrypted_backups_ciphertext_check CHECK (octet_length(ciphertext) >= 1),
    CONSTRAINT encrypted_backups_nonce_check CHECK (octet_length(nonce) = 12),
    CONSTRAINT encrypted_backups_auth_tag_check CHECK (octet_length(auth_tag) = 16),
    CONSTRAINT encrypted_backups_key_algorithm_check CHECK (key_algorithm IN ('ed25519', 'rsa-4096')),
    CONSTRAINT encrypted_backups_signature_check
        CHECK ((key_algorithm = 'ed25519' AND octet_length(signature) = 64)
               OR (key_algorithm = 'rsa-4096' AND octet_length(signature) = 512)),
    CONSTRAINT encrypted_backups_size_bytes_check CHECK (size_bytes = octet_length(ciphertext))
);

-- The hot index: exactly the list order (created_at DESC, backup_id DESC), so
-- every keyset page is an index range scan with no sort.
CREATE INDEX encrypted_backups_list_idx
    ON zkeb.encrypted_backups (user_id, created_at DESC, backup_id DESC);
CREATE INDEX encrypted_backups_name_idx
    ON zkeb.encrypted_backups (user_id, backup_name_hash, created_at DESC, backup_id DESC);
-- Maintenance finds expired and trashed rows without scanning live ones.
CREATE INDEX encrypted_backups_expires_at_idx
    ON zkeb.encrypted_backups (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX encrypted_backups_deleted_at_idx
    ON zkeb.encrypted_backups (deleted_at) WHERE deleted_at IS NOT NULL;

ALTER TABLE zkeb.encrypted_backups ENABLE ROW LEVEL SECURITY;
ALTER TABLE zkeb.encrypted_backups FORCE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE zkeb.encrypted_backups FROM PUBLIC;

COMMENT ON TABLE zkeb.encrypted_backups IS 'Client-encrypted backups: opaque ciphertext plus what is needed to serve and verify it.';
COMMENT ON COLUMN zkeb.encrypted_backups.user_id IS 'Owner of the backup.';
COMMENT ON COLUMN zkeb.encrypted_backups.backup_id IS 'Client-chosen id; a retry with the same id and content is idempotent.';
COMMENT ON COLUMN zkeb.encrypted_backups.device_id IS 'Device whose key signed the backup.';
COMMENT ON COLUMN zkeb.encrypted_backups.backup_name_hash IS 'Opaque 32-byte hash of the backup name, computed by the client.';
COMMENT ON COLUMN zkeb.encrypted_backups.ciphertext IS 'Client-side encrypted content; the server has no key for it.';
COMMENT ON COLUMN zkeb.encrypted_backups.nonce IS '12-byte AEAD nonce.';
COMMENT ON COLUMN zkeb.encrypted_backups.auth_tag IS '16-byte AEAD authentication tag.';
COMMENT ON COLUMN zkeb.encrypted_backups.signature IS 'Signature by the device key: 64 bytes (ed25519) or 512 bytes (rsa-4096).';
COMMENT ON COLUMN zkeb.encrypted_backups.key_algorithm IS 'Algorithm of the signing device, carried on the row so a CHECK can bind the signature length.';
COMMENT ON COLUMN zkeb.encrypted_backups.size_bytes IS 'octet_length(ciphertext), charged against the quota.';
COMMENT ON COLUMN zkeb.encrypted_backups.created_at IS 'When the backup was stored.';
COMMENT ON COLUMN zkeb.encrypted_backups.expires_at IS 'When the backup expires (gone for every call from then on; cleanup frees it).';
COMMENT ON COLUMN zkeb.encrypted_backups.deleted_at IS 'When the backup went to the trash (still counted against the quota until purged).';

COMMIT;
