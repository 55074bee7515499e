-- One call of zkeb_api.list_recovery_shares (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.list_recovery_shares(
    session_token => %(session_token)s::bytea)
