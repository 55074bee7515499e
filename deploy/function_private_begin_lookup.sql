-- Deploy zkeb:function_private_begin_lookup to pg
-- requires: schema_zkeb_private
BEGIN;
SET LOCAL ROLE zkeb_owner;

-- Pre-session context (prelogin, register_user, login): admits exactly the
-- row of the given username hash or user id, and nothing of any session.
CREATE FUNCTION zkeb_private.begin_lookup(username_hash bytea, user_id uuid)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.set_config('zkeb.session_token', '', true),
            pg_catalog.set_config('zkeb.session_checked', '', true),
            pg_catalog.set_config('zkeb.session_user_id', '', true),
            pg_catalog.set_config('zkeb.session_audit_hash', '', true),
            pg_catalog.set_config('zkeb.maintenance', '', true),
            pg_catalog.set_config('zkeb.audit_reader', '', true),
            pg_catalog.set_config('zkeb.lookup_username_hash',
                COALESCE(pg_catalog.encode(begin_lookup.username_hash, 'hex'), ''), true),
            pg_catalog.set_config('zkeb.lookup_user_id',
                COALESCE(begin_lookup.user_id::text, ''), true);
END
$$;

COMMENT ON FUNCTION zkeb_private.begin_lookup(bytea, uuid) IS
    'Set the pre-session lookup context to one username hash and/or user id (clears every other context).';
REVOKE ALL ON FUNCTION zkeb_private.begin_lookup(bytea, uuid) FROM PUBLIC;

COMMIT;
