-- One call of zkeb_api.sync_push (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.sync_push(
    session_token => %(session_token)s::bytea,
    entity_hash => %(entity_hash)s::bytea,
    device_id => %(device_id)s::uuid,
    vector_clock => %(vector_clock)s::jsonb,
    lamport => %(lamport)s::bigint,
    payload => %(payload)s::bytea)
