-- One call of zkeb_api.list_audit_events (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.list_audit_events(
    session_token => %(session_token)s::bytea,
    page_size => %(page_size)s::integer,
    before_id => %(before_id)s::bigint)
