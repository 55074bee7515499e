-- One call of zkeb_api.delete_backup (no result); every argument named and cast.
SELECT * FROM zkeb_api.delete_backup(
    session_token => %(session_token)s::bytea,
    backup_id => %(backup_id)s::uuid)
