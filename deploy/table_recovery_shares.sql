-- Deploy zkeb:table_recovery_shares to pg
-- requires: table_users
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE TABLE zkeb.recovery_shares (
    user_id         uuid        NOT NULL,
    recovery_set_id uuid        NOT NULL,
    share_index     integer     NOT NULL,
    guardian_hash   bytea       NOT NULL,
    threshold       integer     NOT NULL,
    total_shares    integer     NOT NULL,
    encrypted_share bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT recovery_shares_pkey PRIMARY KEY (user_id, recovery_set_id, share_index),
    CONSTRAINT recovery_shares_user_id_fkey FOREIGN KEY (user_id) REFERENCES zkeb.users (user_id),
    CONSTRAINT recovery_shares_guardian_hash_check CHECK (octet_length(guardian_hash) = 32),
    CONSTRAINT recovery_shares_threshold_check
        CHECK (2 <= threshold AND threshold <= total_shares AND total_shares <= 255),
    CONSTRAINT recovery_shares_share_index_check CHECK (share_index BETWEEN 1 AND total_shares),
    CONSTRAINT recovery_shares_encrypted_share_check CHECK (octet_length(encrypted_share) BETWEEN 1 AND 4096)
);

ALTER TABLE zkeb.recovery_shares ENABLE ROW LEVEL SECURITY;
ALTER TABLE zkeb.recovery_shares FORCE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE zkeb.recovery_shares FROM PUBLIC;

COMMENT ON TABLE zkeb.recovery_shares IS 'Shamir shares of a user''s recovery key, each encrypted by the client for one guardian.';
COMMENT ON COLUMN zkeb.recovery_shares.user_id IS 'Owner of the share set.';
COMMENT ON COLUMN zkeb.recovery_shares.recovery_set_id IS 'The set the share belongs to; a user has at most one set at a time.';
COMMENT ON COLUMN zkeb.recovery_shares.share_index IS 'Shamir x-coordinate, 1..total_shares, distinct within a set.';
COMMENT ON COLUMN zkeb.recovery_shares.guardian_hash IS 'Opaque 32-byte hash identifying the guardian, computed by the client.';
COMMENT ON COLUMN zkeb.recovery_shares.threshold IS 'Shares needed to recover (2..total_shares).';
COMMENT ON COLUMN zkeb.recovery_shares.total_shares IS 'Shares in the set (threshold..255).';
COMMENT ON COLUMN zkeb.recovery_shares.encrypted_share IS 'The share, encrypted by the client for the guardian (1..4096 bytes).';
COMMENT ON COLUMN zkeb.recovery_shares.created_at IS 'When the set was stored.';

COMMIT;
