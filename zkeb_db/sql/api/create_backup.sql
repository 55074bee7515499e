-- One call of zkeb_api.create_backup (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.create_backup(
    session_token => %(session_token)s::bytea,
    backup_id => %(backup_id)s::uuid,
    device_id => %(device_id)s::uuid,
    backup_name_hash => %(backup_name_hash)s::bytea,
    ciphertext => %(ciphertext)s::bytea,
    nonce => %(nonce)s::bytea,
    auth_tag => %(auth_tag)s::bytea,
    signature => %(signature)s::bytea,
    expires_at => %(expires_at)s::timestamptz)
