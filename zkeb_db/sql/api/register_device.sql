-- One call of zkeb_api.register_device (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.register_device(
    session_token => %(session_token)s::bytea,
    device_id_hash => %(device_id_hash)s::bytea,
    public_key => %(public_key)s::bytea,
    key_algorithm => %(key_algorithm)s::text)
