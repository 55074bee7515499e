-- One call of zkeb_api.sync_pull (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.sync_pull(
    session_token => %(session_token)s::bytea,
    after_seq => %(after_seq)s::bigint,
    page_size => %(page_size)s::integer)
