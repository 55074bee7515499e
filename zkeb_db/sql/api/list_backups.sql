-- One call of zkeb_api.list_backups (its result columns); every argument named and cast.
SELECT * FROM zkeb_api.list_backups(
    session_token => %(session_token)s::bytea,
    page_size => %(page_size)s::integer,
    before_created_at => %(before_created_at)s::timestamptz,
    before_id => %(before_id)s::uuid,
    only_name_hash => %(only_name_hash)s::bytea,
    in_trash => %(in_trash)s::boolean)
