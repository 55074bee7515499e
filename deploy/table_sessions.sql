-- Deploy zkeb:table_sessions to pg
-- requires: table_devices
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE TABLE zkeb.sessions (
    user_id    uuid        NOT NULL,
    token_hash bytea       NOT NULL,
    device_id  uuid,
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CONSTRAINT sessions_pkey PRIMARY KEY (user_id, token_hash),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES zkeb.users (user_id),
    CONSTRAINT sessions_device_fkey FOREIGN KEY (user_id, device_id)
        REFERENCES zkeb.devices (user_id, device_id),
    CONSTRAINT sessions_token_hash_check CHECK (octet_length(token_hash) = 32),
    CONSTRAINT sessions_expires_at_check CHECK (expires_at > created_at)
);

-- Lets purge_expired_sessions find its batch without scanning every session.
CREATE INDEX sessions_expires_at_idx ON zkeb.sessions (expires_at);
CREATE INDEX sessions_device_idx ON zkeb.sessions (user_id, device_id) WHERE device_id IS NOT NULL;

ALTER TABLE zkeb.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE zkeb.sessions FORCE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE zkeb.sessions FROM PUBLIC;

COMMENT ON TABLE zkeb.sessions IS 'Login sessions; only the sha256 of each token is kept.';
COMMENT ON COLUMN zkeb.sessions.user_id IS 'Owner of the session (also the first 16 bytes of the token).';
COMMENT ON COLUMN zkeb.sessions.token_hash IS 'sha256 of the 48-byte session token.';
COMMENT ON COLUMN zkeb.sessions.device_id IS 'Device the session was opened for, if any; revoking it ends the session.';
COMMENT ON COLUMN zkeb.sessions.created_at IS 'When the session was opened.';
COMMENT ON COLUMN zkeb.sessions.expires_at IS 'When the session ends by itself.';
COMMENT ON COLUMN zkeb.sessions.revoked_at IS 'When the session was ended (logout or device revocation).';

COMMIT;
