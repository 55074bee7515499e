-- One call of zkeb_api.get_backup (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.get_backup(
    session_token => %(session_token)s::bytea,
    backup_id => %(backup_id)s::uuid)
