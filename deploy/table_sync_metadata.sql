-- Deploy zkeb:table_sync_metadata to pg
-- requires: table_devices
-- requires: function_private_valid_vector_clock
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE TABLE zkeb.sync_metadata (
    user_id      uuid        NOT NULL,
    entity_hash  bytea       NOT NULL,
    version_id   uuid        NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    device_id    uuid        NOT NULL,
    vector_clock jsonb       NOT NULL,
    lamport      bigint      NOT NULL,
    seq          bigint      NOT NULL,
    is_sibling   boolean     NOT NULL DEFAULT false,
    payload      bytea,
    updated_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT sync_metadata_pkey PRIMARY KEY (user_id, entity_hash, version_id),
    CONSTRAINT sync_metadata_seq_key UNIQUE (user_id, seq),
    CONSTRAINT sync_metadata_device_fkey FOREIGN KEY (user_id, device_id)
        REFERENCES zkeb.devices (user_id, device_id),
    CONSTRAINT sync_metadata_entity_hash_check CHECK (octet_length(entity_hash) = 32),
    CONSTRAINT sync_metadata_vector_clock_check CHECK (zkeb_private.valid_vector_clock(vector_clock)),
    CONSTRAINT sync_metadata_lamport_check CHECK (lamport >= 0),
    CONSTRAINT sync_metadata_seq_check CHECK (seq >= 1),
    CONSTRAINT sync_metadata_payload_check CHECK (octet_length(payload) <= 1048576)
);

ALTER TABLE zkeb.sync_metadata ENABLE ROW LEVEL SECURITY;
ALTER TABLE zkeb.sync_metadata FORCE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE zkeb.sync_metadata FROM PUBLIC;

COMMENT ON TABLE zkeb.sync_metadata IS 'Current heads (and concurrent siblings) of each synced entity; superseded versions are deleted.';
COMMENT ON COLUMN zkeb.sync_metadata.user_id IS 'Owner of the entity.';
COMMENT ON COLUMN zkeb.sync_metadata.entity_hash IS 'Opaque 32-byte hash identifying the synced entity, computed by the client.';
COMMENT ON COLUMN zkeb.sync_metadata.version_id IS 'Id of this version (siblings of one entity differ here).';
COMMENT ON COLUMN zkeb.sync_metadata.device_id IS 'Device that pushed this version.';
COMMENT ON COLUMN zkeb.sync_metadata.vector_clock IS 'Vector clock: JSON object device id (uuid text) -> non-negative integer.';
COMMENT ON COLUMN zkeb.sync_metadata.lamport IS 'Lamport value of the push (per device, strictly increasing).';
COMMENT ON COLUMN zkeb.sync_metadata.seq IS 'Per-user change sequence, taken under the user''s row lock (increases in commit order).';
COMMENT ON COLUMN zkeb.sync_metadata.is_sibling IS 'True while concurrent versions of the entity coexist.';
COMMENT ON COLUMN zkeb.sync_metadata.payload IS 'Optional client-encrypted payload (at most max_sync_payload_bytes).';
COMMENT ON COLUMN zkeb.sync_metadata.updated_at IS 'When this version was written.';

COMMIT;
