-- One call of zkeb_api.delete_account (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.delete_account(
    session_token => %(session_token)s::bytea)
