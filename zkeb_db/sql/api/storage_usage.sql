-- One call of zkeb_api.storage_usage (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.storage_usage(
    session_token => %(session_token)s::bytea)
