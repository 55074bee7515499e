-- One call of zkeb_api.store_recovery_shares (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.store_recovery_shares(
    session_token => %(session_token)s::bytea,
    threshold => %(threshold)s::integer,
    guardian_hashes => %(guardian_hashes)s::bytea[],
    share_indexes => %(share_indexes)s::integer[],
    encrypted_shares => %(encrypted_shares)s::bytea[])
