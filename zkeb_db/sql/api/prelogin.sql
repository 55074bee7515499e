-- One call of zkeb_api.prelogin (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.prelogin(
    username_hash => %(username_hash)s::bytea)
