-- One call of zkeb_api.whoami (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.whoami(
    session_token => %(session_token)s::bytea)
