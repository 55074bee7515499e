-- One call of zkeb_api.list_devices (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.list_devices(
    session_token => %(session_token)s::bytea)
