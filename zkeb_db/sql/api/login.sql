-- One call of zkeb_api.login (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.login(
    username_hash => %(username_hash)s::bytea,
    auth_key => %(auth_key)s::bytea,
    device_id => %(device_id)s::uuid,
    ttl => %(ttl)s::interval)
