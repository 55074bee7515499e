-- Deploy zkeb:table_devices to pg
-- requires: table_users
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE TABLE zkeb.devices (
    user_id        uuid        NOT NULL,
    device_id      uuid        NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    device_id_hash bytea       NOT NULL,
    key_algorithm  text        NOT NULL,
    public_key     bytea       NOT NULL,
    sync_lamport   bigint,
    created_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    revoked_at     timestamptz,
    CONSTRAINT devices_pkey PRIMARY KEY (user_id, device_id),
    CONSTRAINT devices_device_id_hash_key UNIQUE (user_id, device_id_hash),
    CONSTRAINT devices_user_id_fkey FOREIGN KEY (user_id) REFERENCES zkeb.users (user_id),
    CONSTRAINT devices_device_id_hash_check CHECK (octet_length(device_id_hash) = 32),
    CONSTRAINT devices_key_algorithm_check CHECK (key_algorithm IN ('ed25519', 'rsa-4096')),
    CONSTRAINT devices_public_key_check
        CHECK ((key_algorithm = 'ed25519' AND octet_length(public_key) = 32)
               OR (key_algorithm = 'rsa-4096' AND octet_length(public_key) = 550)),
    CONSTRAINT devices_sync_lamport_check CHECK (sync_lamport >= 0)
);

ALTER TABLE zkeb.devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE zkeb.devices FORCE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE zkeb.devices FROM PUBLIC;

COMMENT ON TABLE zkeb.devices IS 'Devices of a user, each with the public key that signs its backups.';
COMMENT ON COLUMN zkeb.devices.user_id IS 'Owner of the device.';
COMMENT ON COLUMN zkeb.devices.device_id IS 'Random device id.';
COMMENT ON COLUMN zkeb.devices.device_id_hash IS 'Opaque 32-byte hash of the client''s device identifier.';
COMMENT ON COLUMN zkeb.devices.key_algorithm IS 'Signature algorithm: ed25519 or rsa-4096.';
COMMENT ON COLUMN zkeb.devices.public_key IS 'Public signing key: 32 raw bytes (ed25519) or a 550-byte DER SubjectPublicKeyInfo (rsa-4096).';
COMMENT ON COLUMN zkeb.devices.sync_lamport IS 'Last Lamport value this device pushed; pushes must increase it.';
COMMENT ON COLUMN zkeb.devices.created_at IS 'When the device was registered.';
COMMENT ON COLUMN zkeb.devices.revoked_at IS 'When the device was revoked; a revoked device signs nothing and its sessions end.';

COMMIT;
