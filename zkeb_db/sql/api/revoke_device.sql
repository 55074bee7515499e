-- One call of zkeb_api.revoke_device (no result); every argument named and cast.
SELECT * FROM zkeb_api.revoke_device(
    session_token => %(session_token)s::bytea,
    device_id => %(device_id)s::uuid)
