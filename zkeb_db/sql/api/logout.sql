-- One call of zkeb_api.logout (no result); every argument named and cast.
SELECT * FROM zkeb_api.logout(
    session_token => %(session_token)s::bytea)
