-- One call of zkeb_api.register_user (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.register_user(
    username_hash => %(username_hash)s::bytea,
    auth_salt => %(auth_salt)s::bytea,
    auth_key => %(auth_key)s::bytea,
    kdf_params => %(kdf_params)s::jsonb)
