-- Deploy zkeb:function_private_guard_violations to pg
-- requires: schema_zkeb_private
-- The zero-knowledge and tenancy rules, asserted over the catalog. One row per
-- violation; none when the database is sound. `zkeb-db check` prints them and
-- this change's verify script raises on any, so real `sqitch verify` runs the
-- checker too. It reads only the catalog and may run at any point of the plan.
-- The pinned search_path (pg_catalog, pg_temp) matters beyond hygiene here:
-- pg_get_expr leaves out the schema of any function visible on the path, and
-- the policy shapes below compare fully qualified helper names.
BEGIN;
SET LOCAL ROLE zkeb_owner;

CREATE FUNCTION zkeb_private.guard_violations()
RETURNS TABLE (rule text, object text, detail text)
LANGUAGE plpgsql
STABLE
SET search_path = pg_catalog, pg_temp
AS $guard$
DECLARE
    -- The project schemas every rule walks.
    _schemas name[] := ARRAY['zkeb', 'zkeb_api', 'zkeb_private', 'zkeb_maint']::name[];
    -- api.md: what zkeb_app, zkeb_maintainer and zkeb_auditor may EXECUTE.
    _api name[] := ARRAY[
        'prelogin', 'register_user', 'login', 'logout', 'whoami', 'delete_account',
        'register_device', 'revoke_device', 'list_devices',
        'create_backup', 'list_backups', 'get_backup', 'delete_backup',
        'restore_backup', 'purge_backup', 'storage_usage',
        'store_recovery_shares', 'list_recovery_shares',
        'sync_push', 'sync_pull', 'list_audit_events']::name[];
    _maint name[] := ARRAY[
        'cleanup_expired_backups', 'purge_trash', 'purge_expired_sessions',
        'purge_audit_logs', 'set_quota', 'verify_audit_chain',
        'export_audit_checkpoint', 'check_invariants']::name[];
    _audit name[] := ARRAY['verify_audit_chain', 'export_audit_checkpoint']::name[];
    -- Text columns allowed at all, each only with a CHECK to a fixed set of values.
    _text_columns name[] := ARRAY['account_status', 'key_algorithm', 'action']::name[];
    -- Accepted policy atoms (docs/internals.md, "Policies"), as pg_get_expr
    -- prints them with search_path = pg_catalog.
    _cmp_atoms text[] := ARRAY[
        '(user_id = ( SELECT zkeb_private.current_user_id() AS current_user_id))',
        '(user_id = ( SELECT zkeb_private.claimed_user_id() AS claimed_user_id))',
        '(user_id = ( SELECT zkeb_private.lookup_user_id() AS lookup_user_id))',
        '(username_hash = ( SELECT zkeb_private.lookup_username_hash() AS lookup_username_hash))',
        '(user_hash = ANY (( SELECT zkeb_private.audit_context_hashes() AS audit_context_hashes)::bytea[]))',
        '(user_hash = ANY (( SELECT zkeb_private.audit_context_hashes() AS audit_context_hashes)))'];
    _bool_atoms text[] := ARRAY[
        '( SELECT zkeb_private.maintenance_active() AS maintenance_active)',
        '( SELECT zkeb_private.audit_reader_active() AS audit_reader_active)'];
    -- Column names that suggest a secret or plaintext: always refused, and
    -- refused unless the column is a hash (name ending in _hash).
    _secret_re text := '(^|_)(password|passwd|passphrase|secret|secrets|private_key|privkey|priv_key'
        '|secret_key|signing_key|encryption_key|enc_key|master_key|recovery_key|auth_key|session_key'
        '|plaintext|plain_text|cleartext|clear_text|mnemonic|seed_phrase)(_|$)';
    _identity_re text := '(^|_)(username|user_name|login_name|email|e_mail|phone|phone_number|telephone'
        '|mobile|full_name|first_name|last_name|display_name|real_name|given_name|family_name|surname'
        '|birthdate|birth_date|date_of_birth|address|street|postal_code|zip_code|ip|ip_addr|ip_address'
        '|user_agent|token|session_token|access_token|refresh_token|api_key|ssn|file_name|filename'
        '|backup_name|device_name|location|latitude|longitude)(_|$)';
    _nsp oid[];
    _owner oid;
    _app oid;
    _maintainer oid;
    _auditor oid;
    _missing text[];
BEGIN
    -- Roles. Everything else needs them, so stop here when one is missing.
    SELECT pg_catalog.array_agg(r.n ORDER BY r.n) INTO _missing
      FROM pg_catalog.unnest(ARRAY['zkeb_owner', 'zkeb_app', 'zkeb_maintainer', 'zkeb_auditor']) AS r(n)
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS a WHERE a.rolname = r.n);
    IF _missing IS NOT NULL THEN
        RETURN QUERY SELECT 'roles_exist', m, 'role does not exist'
                       FROM pg_catalog.unnest(_missing) AS m;
        RETURN;
    END IF;
    _nsp := ARRAY(SELECT n.oid FROM pg_catalog.pg_namespace AS n WHERE n.nspname = ANY (_schemas));
    SELECT a.oid INTO _owner FROM pg_catalog.pg_roles AS a WHERE a.rolname = 'zkeb_owner';
    SELECT a.oid INTO _app FROM pg_catalog.pg_roles AS a WHERE a.rolname = 'zkeb_app';
    SELECT a.oid INTO _maintainer FROM pg_catalog.pg_roles AS a WHERE a.rolname = 'zkeb_maintainer';
    SELECT a.oid INTO _auditor FROM pg_catalog.pg_roles AS a WHERE a.rolname = 'zkeb_auditor';

    -- The owner's functions must be subject to RLS (FORCE) and unable to
    -- create roles, databases or log in.
    RETURN QUERY
    SELECT 'owner_role_attributes', a.rolname::text,
           'has ' || pg_catalog.concat_ws(', ',
               CASE WHEN a.rolsuper THEN 'SUPERUSER' END,
               CASE WHEN a.rolbypassrls THEN 'BYPASSRLS' END,
               CASE WHEN a.rolcreaterole THEN 'CREATEROLE' END,
               CASE WHEN a.rolcreatedb THEN 'CREATEDB' END,
               CASE WHEN a.rolcanlogin THEN 'LOGIN' END,
               CASE WHEN a.rolreplication THEN 'REPLICATION' END)
      FROM pg_catalog.pg_roles AS a
     WHERE a.oid = _owner
       AND (a.rolsuper OR a.rolbypassrls OR a.rolcreaterole OR a.rolcreatedb
            OR a.rolcanlogin OR a.rolreplication);

    RETURN QUERY
    SELECT 'group_role_attributes', a.rolname::text,
           'has ' || pg_catalog.concat_ws(', ',
               CASE WHEN a.rolsuper THEN 'SUPERUSER' END,
               CASE WHEN a.rolbypassrls THEN 'BYPASSRLS' END,
               CASE WHEN a.rolcreaterole THEN 'CREATEROLE' END,
               CASE WHEN a.rolcreatedb THEN 'CREATEDB' END,
               CASE WHEN a.rolcanlogin THEN 'LOGIN' END,
               CASE WHEN a.rolreplication THEN 'REPLICATION' END)
      FROM pg_catalog.pg_roles AS a
     WHERE a.oid IN (_app, _maintainer, _auditor)
       AND (a.rolsuper OR a.rolbypassrls OR a.rolcreaterole OR a.rolcreatedb
            OR a.rolcanlogin OR a.rolreplication);

    -- Nobody who holds an application, maintenance or audit role may become
    -- the owner (SET ROLE zkeb_owner would skip every API function).
    RETURN QUERY
    SELECT 'role_membership', a.rolname::text,
           'can become zkeb_owner while holding ' || pg_catalog.concat_ws(', ',
               CASE WHEN pg_catalog.pg_has_role(a.oid, _app, 'MEMBER') THEN 'zkeb_app' END,
               CASE WHEN pg_catalog.pg_has_role(a.oid, _maintainer, 'MEMBER') THEN 'zkeb_maintainer' END,
               CASE WHEN pg_catalog.pg_has_role(a.oid, _auditor, 'MEMBER') THEN 'zkeb_auditor' END)
      FROM pg_catalog.pg_roles AS a
     WHERE NOT a.rolsuper
       AND a.oid <> _owner
       AND pg_catalog.pg_has_role(a.oid, _owner, 'MEMBER')
       AND (pg_catalog.pg_has_role(a.oid, _app, 'MEMBER')
            OR pg_catalog.pg_has_role(a.oid, _maintainer, 'MEMBER')
            OR pg_catalog.pg_has_role(a.oid, _auditor, 'MEMBER'));

    -- A stored default would give every session a tenant context, turn row
    -- security off, or change name resolution.
    RETURN QUERY
    SELECT 'role_settings',
           CASE WHEN s.setrole = 0 AND s.setdatabase = 0 THEN 'all roles'
                WHEN s.setrole = 0 THEN 'database ' || pg_catalog.quote_ident(d.datname)
                WHEN s.setdatabase = 0 THEN 'role ' || pg_catalog.quote_ident(a.rolname)
                ELSE 'role ' || pg_catalog.quote_ident(a.rolname)
                     || ' in database ' || pg_catalog.quote_ident(d.datname) END,
           'stored default ' || c.cfg
      FROM pg_catalog.pg_db_role_setting AS s
      CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS c(cfg)
      LEFT JOIN pg_catalog.pg_roles AS a ON a.oid = s.setrole
      LEFT JOIN pg_catalog.pg_database AS d ON d.oid = s.setdatabase
     WHERE s.setdatabase IN (0, (SELECT x.oid FROM pg_catalog.pg_database AS x
                                  WHERE x.datname = pg_catalog.current_database()))
       AND (pg_catalog.lower(c.cfg) LIKE 'zkeb.%'
            OR pg_catalog.lower(c.cfg) LIKE 'row\_security=%'
            OR pg_catalog.lower(c.cfg) LIKE 'search\_path=%');

    -- zkeb_app: no CREATE and no TEMP on the database.
    RETURN QUERY
    SELECT 'app_database_privileges', 'database ' || pg_catalog.quote_ident(pg_catalog.current_database()),
           'zkeb_app has ' || p.priv
      FROM pg_catalog.unnest(ARRAY['CREATE', 'TEMPORARY']) AS p(priv)
     WHERE pg_catalog.has_database_privilege(_app, pg_catalog.current_database(), p.priv);

    -- zkeb_app: CREATE in no schema, USAGE on zkeb_api and on no other schema
    -- but public (where PostgreSQL grants it to PUBLIC, and which holds nothing
    -- zkeb_app may use: see relation_privileges and app_execute).
    RETURN QUERY
    SELECT 'app_schema_privileges', pg_catalog.quote_ident(n.nspname), 'zkeb_app has CREATE'
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND pg_catalog.has_schema_privilege(_app, n.oid, 'CREATE')
    UNION ALL
    SELECT 'app_schema_privileges', pg_catalog.quote_ident(n.nspname), 'zkeb_app has USAGE'
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public', 'zkeb_api')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND pg_catalog.has_schema_privilege(_app, n.oid, 'USAGE')
    UNION ALL
    SELECT 'app_schema_privileges', 'zkeb_api', 'zkeb_app lacks USAGE'
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname = 'zkeb_api'
       AND NOT pg_catalog.has_schema_privilege(_app, n.oid, 'USAGE');

    -- Project schemas: only the owner, zkeb_app on zkeb_api and the
    -- maintenance roles on zkeb_maint hold anything, and only USAGE. PUBLIC
    -- cannot CREATE in public either.
    RETURN QUERY
    SELECT 'schema_privileges', pg_catalog.quote_ident(n.nspname),
           pg_catalog.format('%s granted to %s',
               x.privilege_type,
               CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END)
      FROM pg_catalog.pg_namespace AS n
      CROSS JOIN LATERAL pg_catalog.aclexplode(
          COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) AS x
     WHERE n.nspname = ANY (_schemas)
       AND x.grantee <> _owner
       AND NOT (x.privilege_type = 'USAGE'
                AND ((n.nspname = 'zkeb_api' AND x.grantee = _app)
                     OR (n.nspname = 'zkeb_maint' AND x.grantee IN (_maintainer, _auditor))))
    UNION ALL
    SELECT 'schema_privileges', 'public', 'PUBLIC can CREATE'
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname = 'public'
       AND pg_catalog.has_schema_privilege('public', n.oid, 'CREATE');

    -- zkeb_owner owns every schema, relation, function and type.
    RETURN QUERY
    SELECT 'ownership', pg_catalog.quote_ident(n.nspname),
           'schema owned by ' || pg_catalog.pg_get_userbyid(n.nspowner)
      FROM pg_catalog.pg_namespace AS n
     WHERE n.nspname = ANY (_schemas) AND n.nspowner <> _owner
    UNION ALL
    SELECT 'ownership', c.oid::regclass::text,
           'relation owned by ' || pg_catalog.pg_get_userbyid(c.relowner)
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relowner <> _owner
    UNION ALL
    SELECT 'ownership', p.oid::regprocedure::text,
           'function owned by ' || pg_catalog.pg_get_userbyid(p.proowner)
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp) AND p.proowner <> _owner
    UNION ALL
    SELECT 'ownership', t.oid::regtype::text,
           'type owned by ' || pg_catalog.pg_get_userbyid(t.typowner)
      FROM pg_catalog.pg_type AS t
      JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
     WHERE t.typnamespace = ANY (_nsp) AND t.typowner <> _owner;

    -- Default privileges: the global entry of zkeb_owner revokes EXECUTE from
    -- PUBLIC, and no default ACL hands anything to PUBLIC or table and
    -- sequence privileges to zkeb_app.
    RETURN QUERY
    SELECT 'default_privileges', 'zkeb_owner',
           'no global default ACL revoking EXECUTE on functions from PUBLIC'
     WHERE NOT EXISTS (
         SELECT 1 FROM pg_catalog.pg_default_acl AS d
          WHERE d.defaclrole = _owner AND d.defaclnamespace = 0 AND d.defaclobjtype = 'f'
            AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(d.defaclacl) AS x
                             WHERE x.grantee = 0))
    UNION ALL
    SELECT 'default_privileges',
           pg_catalog.pg_get_userbyid(d.defaclrole)
           || CASE WHEN d.defaclnamespace = 0 THEN ''
                   ELSE ' in schema ' || d.defaclnamespace::regnamespace::text END,
           pg_catalog.format('default %s on %s for %s',
               x.privilege_type,
               CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                    WHEN 'f' THEN 'functions' WHEN 'n' THEN 'schemas' ELSE 'types' END,
               CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE 'zkeb_app' END)
      FROM pg_catalog.pg_default_acl AS d
      CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) AS x
     WHERE (x.grantee = 0 AND d.defaclobjtype IN ('r', 'S', 'f', 'n'))
        OR (x.grantee = _app AND d.defaclobjtype IN ('r', 'S', 'n'));

    -- No extension objects in the project schemas or public.
    RETURN QUERY
    SELECT 'extensions', e.extname::text,
           'extension installed in schema ' || e.extnamespace::regnamespace::text
      FROM pg_catalog.pg_extension AS e
      JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
     WHERE e.extnamespace = ANY (_nsp) OR n.nspname = 'public';

    -- Every table and partition: RLS enabled and forced, with policies.
    RETURN QUERY
    SELECT 'rls_forced', c.oid::regclass::text,
           CASE WHEN NOT c.relrowsecurity THEN 'row level security is not enabled'
                ELSE 'row level security is not forced' END
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
       AND NOT (c.relrowsecurity AND c.relforcerowsecurity);

    RETURN QUERY
    SELECT 'rls_policies', c.oid::regclass::text, 'table has no policy'
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid);

    -- zkeb_app holds no privilege on any table, partition, view, sequence or
    -- column anywhere; in the project schemas nobody but the owner holds one.
    RETURN QUERY
    SELECT 'relation_privileges', c.oid::regclass::text,
           'zkeb_app has privileges on this ' || CASE c.relkind WHEN 'S' THEN 'sequence'
               WHEN 'v' THEN 'view' WHEN 'f' THEN 'foreign table' ELSE 'table' END
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
       AND c.relkind IN ('r', 'p', 'v', 'f', 'S')
       AND CASE WHEN c.relkind = 'S'
                THEN pg_catalog.has_sequence_privilege(_app, c.oid, 'USAGE,SELECT,UPDATE')
                ELSE pg_catalog.has_table_privilege(_app, c.oid,
                         'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
                     OR pg_catalog.has_any_column_privilege(_app, c.oid,
                         'SELECT,INSERT,UPDATE,REFERENCES') END
    UNION ALL
    SELECT 'relation_privileges', c.oid::regclass::text,
           pg_catalog.format('%s granted to %s', x.privilege_type,
               CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END)
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) AS x
     WHERE c.relnamespace = ANY (_nsp) AND x.grantee <> c.relowner
    UNION ALL
    SELECT 'relation_privileges', pg_catalog.format('%s.%I', c.oid::regclass, a.attname),
           pg_catalog.format('column %s granted to %s', x.privilege_type,
               CASE WHEN x.grantee = 0 THEN 'PUBLIC'
                    ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee)) END)
      FROM pg_catalog.pg_attribute AS a
      JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      CROSS JOIN LATERAL pg_catalog.aclexplode(a.attacl) AS x
     WHERE c.relnamespace = ANY (_nsp) AND NOT a.attisdropped AND x.grantee <> c.relowner;

    -- Materialized views have no row level security.
    RETURN QUERY
    SELECT 'materialized_views', c.oid::regclass::text,
           'materialized view readable by ' || CASE
               WHEN pg_catalog.has_table_privilege('public', c.oid, 'SELECT') THEN 'PUBLIC'
               ELSE 'zkeb_app' END
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relkind = 'm'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND (pg_catalog.has_table_privilege(_app, c.oid, 'SELECT')
            OR pg_catalog.has_table_privilege('public', c.oid, 'SELECT'));

    -- Rules rewrite queries behind the policies' back.
    RETURN QUERY
    SELECT 'rules', pg_catalog.format('%s.%I', c.oid::regclass, r.rulename),
           'user-defined rule'
      FROM pg_catalog.pg_rewrite AS r
      JOIN pg_catalog.pg_class AS c ON c.oid = r.ev_class
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND r.rulename <> '_RETURN';

    -- Policies: TO zkeb_owner only.
    RETURN QUERY
    SELECT 'policy_roles', pg_catalog.format('%s.%I', c.oid::regclass, p.polname),
           'policy applies to ' || pg_catalog.array_to_string(ARRAY(
               SELECT CASE WHEN r.oid = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(r.oid) END
                 FROM pg_catalog.unnest(p.polroles) AS r(oid) ORDER BY 1), ', ')
      FROM pg_catalog.pg_policy AS p
      JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp)
       AND p.polroles IS DISTINCT FROM ARRAY[_owner]::oid[];

    -- Policies: UPDATE and ALL carry an explicit WITH CHECK.
    RETURN QUERY
    SELECT 'policy_with_check', pg_catalog.format('%s.%I', c.oid::regclass, p.polname),
           'UPDATE/ALL policy without WITH CHECK'
      FROM pg_catalog.pg_policy AS p
      JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND p.polcmd IN ('w', '*') AND p.polwithcheck IS NULL;

    -- Policies: named <table>_<command>_<branch>.
    RETURN QUERY
    SELECT 'policy_naming', pg_catalog.format('%s.%I', c.oid::regclass, p.polname),
           pg_catalog.format('expected %s_%s_<own|claimed|lookup|register|maint|audit|owner>',
               c.relname, CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'
                   WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END)
      FROM pg_catalog.pg_policy AS p
      JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp)
       AND NOT (p.polname::text = ANY (ARRAY(
           SELECT c.relname || '_'
                  || CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'
                         WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END
                  || '_' || b.branch
             FROM pg_catalog.unnest(ARRAY['own', 'claimed', 'lookup', 'register', 'maint',
                                          'audit', 'owner']) AS b(branch))));

    -- Policies: every USING / WITH CHECK is one accepted shape: a tenant
    -- column compared with a helper in a (SELECT ...) initPlan, a context
    -- helper in a (SELECT ...), or an OR of comparisons. No bare helper, no
    -- current_setting, no IS NULL OR, no constant true. The one allowlisted
    -- exception is settings_select_owner, pinned to its exact expression.
    RETURN QUERY
    WITH e AS (
        SELECT c.oid AS relid, p.polname, n.nspname, c.relname, k.clause,
               pg_catalog.regexp_replace(pg_catalog.pg_get_expr(k.expr, c.oid), '\s+', ' ', 'g') AS txt
          FROM pg_catalog.pg_policy AS p
          JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
          CROSS JOIN LATERAL (VALUES ('USING', p.polqual), ('WITH CHECK', p.polwithcheck)) AS k(clause, expr)
         WHERE c.relnamespace = ANY (_nsp) AND k.expr IS NOT NULL
    )
    SELECT 'policy_shape', pg_catalog.format('%s.%I', e.relid::regclass, e.polname),
           pg_catalog.format('%s %s is not an accepted shape', e.clause, e.txt)
      FROM e
     WHERE NOT (e.txt = ANY (_cmp_atoms) OR e.txt = ANY (_bool_atoms))
       AND NOT (e.txt LIKE '(%)' AND e.txt LIKE '% OR %'
                AND (SELECT pg_catalog.bool_and(d = ANY (_cmp_atoms))
                       FROM pg_catalog.unnest(pg_catalog.string_to_array(
                                pg_catalog.substr(e.txt, 2, pg_catalog.length(e.txt) - 2), ' OR ')) AS d))
       AND NOT (e.nspname = 'zkeb_private' AND e.relname = 'settings'
                AND e.polname = 'settings_select_owner' AND e.clause = 'USING'
                AND e.txt = '(CURRENT_USER = ''zkeb_owner''::name)');

    -- Policies: the commands without USING or WITH CHECK that need one.
    RETURN QUERY
    SELECT 'policy_shape', pg_catalog.format('%s.%I', c.oid::regclass, p.polname),
           CASE WHEN p.polqual IS NULL THEN 'no USING expression' ELSE 'no WITH CHECK expression' END
      FROM pg_catalog.pg_policy AS p
      JOIN pg_catalog.pg_class AS c ON c.oid = p.polrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp)
       AND ((p.polcmd IN ('r', 'd', 'w', '*') AND p.polqual IS NULL)
            OR (p.polcmd = 'a' AND p.polwithcheck IS NULL));

    -- Functions: nothing executable by PUBLIC (a NULL ACL is the default,
    -- which grants EXECUTE to PUBLIC).
    RETURN QUERY
    SELECT 'function_public_execute', p.oid::regprocedure::text, 'PUBLIC can EXECUTE'
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp)
       AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(
                       COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) AS x
                    WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE');

    -- Functions: EXECUTE granted to nobody outside the four project roles.
    RETURN QUERY
    SELECT 'function_grantees', p.oid::regprocedure::text,
           'EXECUTE granted to ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(x.grantee))
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) AS x
     WHERE p.pronamespace = ANY (_nsp)
       AND x.grantee NOT IN (0, _owner, _app, _maintainer, _auditor);

    -- zkeb_app, zkeb_maintainer, zkeb_auditor: EXECUTE exactly their
    -- allowlist from api.md, missing and extra both fail, one function per name.
    RETURN QUERY
    WITH lists(rule, role_oid, role_name, schema_name, names) AS (
        VALUES ('app_execute', _app, 'zkeb_app', 'zkeb_api'::name, _api),
               ('maintainer_execute', _maintainer, 'zkeb_maintainer', 'zkeb_maint'::name, _maint),
               ('auditor_execute', _auditor, 'zkeb_auditor', 'zkeb_maint'::name, _audit)
    ), procs AS MATERIALIZED (
        -- every function outside the system schemas (a few hundred at most)
        SELECT p.oid, p.proname, n.nspname
          FROM pg_catalog.pg_proc AS p
          JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
    )
    SELECT l.rule, p.oid::regprocedure::text, l.role_name || ' can EXECUTE it but it is not on its allowlist'
      FROM lists AS l
      CROSS JOIN procs AS p
     WHERE pg_catalog.has_function_privilege(l.role_oid, p.oid, 'EXECUTE')
       AND NOT (p.nspname = l.schema_name AND p.proname = ANY (l.names))
    UNION ALL
    SELECT l.rule, l.schema_name || '.' || f.name,
           CASE WHEN NOT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_proc AS p
                      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
                     WHERE n.nspname = l.schema_name AND p.proname = f.name)
                THEN 'allowlisted function does not exist'
                ELSE l.role_name || ' cannot EXECUTE this allowlisted function' END
      FROM lists AS l
      CROSS JOIN LATERAL pg_catalog.unnest(l.names) AS f(name)
     WHERE NOT EXISTS (
         SELECT 1 FROM pg_catalog.pg_proc AS p
           JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
          WHERE n.nspname = l.schema_name AND p.proname = f.name
            AND pg_catalog.has_function_privilege(l.role_oid, p.oid, 'EXECUTE'))
    UNION ALL
    SELECT 'app_execute', p.oid::regprocedure::text, 'overloaded API function (no overloads allowed)'
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE n.nspname IN ('zkeb_api', 'zkeb_maint')
       AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc AS q
             WHERE q.pronamespace = p.pronamespace AND q.proname = p.proname) > 1;

    -- SECURITY DEFINER functions: owned by zkeb_owner (never a superuser or
    -- a BYPASSRLS role) and pinned to exactly pg_catalog, pg_temp.
    RETURN QUERY
    SELECT 'definer_owner', p.oid::regprocedure::text,
           'SECURITY DEFINER function owned by ' || pg_catalog.pg_get_userbyid(p.proowner)
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp) AND p.prosecdef AND p.proowner <> _owner;

    RETURN QUERY
    SELECT CASE WHEN p.prosecdef THEN 'definer_search_path' ELSE 'function_search_path' END,
           p.oid::regprocedure::text,
           pg_catalog.format('%s function not pinned to search_path=pg_catalog, pg_temp (config: %s)',
               CASE WHEN p.prosecdef THEN 'SECURITY DEFINER' ELSE 'SECURITY INVOKER' END,
               COALESCE(pg_catalog.array_to_string(p.proconfig, '; '), 'none'))
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp)
       AND NOT ('search_path=pg_catalog, pg_temp' = ANY (COALESCE(p.proconfig, '{}'::text[])));

    -- A function must not carry a tenant context or switch row security off.
    RETURN QUERY
    SELECT 'function_config', p.oid::regprocedure::text, 'function sets ' || c.cfg
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
      CROSS JOIN LATERAL pg_catalog.unnest(p.proconfig) AS c(cfg)
     WHERE p.pronamespace = ANY (_nsp)
       AND (pg_catalog.lower(c.cfg) LIKE 'zkeb.%' OR pg_catalog.lower(c.cfg) LIKE 'row\_security=%');

    -- LEAKPROOF lets a function run before the policies' quals.
    RETURN QUERY
    SELECT 'leakproof', p.oid::regprocedure::text, 'function is LEAKPROOF'
      FROM pg_catalog.pg_proc AS p
      JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
     WHERE p.pronamespace = ANY (_nsp) AND p.proleakproof;

    -- Columns: no name that suggests a secret or a plaintext identifier.
    RETURN QUERY
    SELECT 'secret_columns', pg_catalog.format('%s.%I', c.oid::regclass, a.attname),
           'column name suggests a secret or plaintext'
      FROM pg_catalog.pg_attribute AS a
      JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       AND a.attnum > 0 AND NOT a.attisdropped
       AND (pg_catalog.lower(a.attname) ~ _secret_re
            OR (pg_catalog.lower(a.attname) ~ _identity_re AND pg_catalog.lower(a.attname) !~ '_hash$'));

    -- Columns: ciphertext, nonces, tags, signatures, hashes, keys, salts,
    -- verifiers are BYTEA with a validated length CHECK on that column
    -- (nonce 12, auth tag 16, *_hash 32 bytes).
    RETURN QUERY
    WITH cols AS (
        SELECT c.oid AS relid, a.attnum, a.attname, a.atttypid,
               pg_catalog.lower(a.attname) AS lname,
               pg_catalog.regexp_replace(pg_catalog.quote_ident(a.attname), '([^[:alnum:]_])', '\\\1', 'g') AS re
          FROM pg_catalog.pg_attribute AS a
          JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
         WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
           AND a.attnum > 0 AND NOT a.attisdropped
           AND pg_catalog.lower(a.attname) ~ '((^|_)(ciphertext|nonce|tag|signature|hash|key|salt|verifier|pepper)$|^encrypted_)'
    ), checked AS (
        SELECT k.*,
               CASE WHEN k.lname ~ '(^|_)nonce$' THEN 12
                    WHEN k.lname ~ '(^|_)tag$' THEN 16
                    WHEN k.lname ~ '(^|_)hash$' THEN 32 END AS want,
               (SELECT pg_catalog.array_agg(pg_catalog.pg_get_constraintdef(o.oid))
                  FROM pg_catalog.pg_constraint AS o
                 WHERE o.conrelid = k.relid AND o.contype = 'c' AND o.convalidated
                   AND k.attnum = ANY (o.conkey)) AS defs
          FROM cols AS k
    )
    SELECT 'bytea_columns', pg_catalog.format('%s.%I', k.relid::regclass, k.attname),
           CASE WHEN k.atttypid <> 'pg_catalog.bytea'::pg_catalog.regtype
                    THEN 'column is ' || pg_catalog.format_type(k.atttypid, NULL) || ', not bytea'
                WHEN k.want IS NULL THEN 'no validated CHECK on octet_length(' || k.attname || ')'
                ELSE pg_catalog.format('no validated CHECK octet_length(%s) = %s', k.attname, k.want) END
      FROM checked AS k
     WHERE k.atttypid <> 'pg_catalog.bytea'::pg_catalog.regtype
        OR NOT EXISTS (
            SELECT 1 FROM pg_catalog.unnest(k.defs) AS d(def)
             WHERE CASE WHEN k.want IS NULL
                        THEN d.def ~ ('octet_length\(' || k.re || '\)')
                        ELSE d.def ~ ('octet_length\(' || k.re || '\) = ' || k.want || '\M') END);

    -- Columns: no text-like column (text, varchar, char, name, arrays or
    -- domains of them) but a short allowlist, each held to a fixed set of
    -- values by a single-column validated CHECK.
    RETURN QUERY
    WITH cols AS (
        SELECT c.oid AS relid, a.attnum, a.attname,
               pg_catalog.regexp_replace(pg_catalog.quote_ident(a.attname), '([^[:alnum:]_])', '\\\1', 'g') AS re,
               COALESCE(NULLIF(b.typelem, 0), b.oid) AS elem
          FROM pg_catalog.pg_attribute AS a
          JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
          JOIN pg_catalog.pg_type AS b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
         WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
           AND a.attnum > 0 AND NOT a.attisdropped
    )
    SELECT 'text_columns', pg_catalog.format('%s.%I', k.relid::regclass, k.attname),
           CASE WHEN NOT (k.attname = ANY (_text_columns))
                    THEN 'text-like column outside the allowlist (' || pg_catalog.format_type(k.elem, NULL) || ')'
                ELSE 'allowlisted text column without a CHECK to a fixed set of values' END
      FROM cols AS k
      JOIN pg_catalog.pg_type AS et ON et.oid = k.elem
     WHERE et.typcategory = 'S'
       AND NOT (k.attname = ANY (_text_columns)
                AND EXISTS (
                    SELECT 1 FROM pg_catalog.pg_constraint AS o
                     WHERE o.conrelid = k.relid AND o.contype = 'c' AND o.convalidated
                       AND o.conkey = ARRAY[k.attnum]::int2[]
                       AND pg_catalog.pg_get_constraintdef(o.oid) ~ (
                           '^CHECK \(\(\(?' || k.re || '\)?(::text)? = ANY \(\(?ARRAY\['
                           || '''([^'']|'''')*''::[a-z ]+(, ''([^'']|'''')*''::[a-z ]+)*'
                           || '\]\)?(::text\[\])?\)\)\)$')));

    -- Columns: JSON is bounded by a validated CHECK on the column.
    RETURN QUERY
    SELECT 'json_columns', pg_catalog.format('%s.%I', c.oid::regclass, a.attname),
           'json column without a validated CHECK bounding it'
      FROM pg_catalog.pg_attribute AS a
      JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
       AND a.attnum > 0 AND NOT a.attisdropped
       AND a.atttypid IN ('pg_catalog.json'::pg_catalog.regtype, 'pg_catalog.jsonb'::pg_catalog.regtype)
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS o
                        WHERE o.conrelid = c.oid AND o.contype = 'c' AND o.convalidated
                          AND a.attnum = ANY (o.conkey));

    -- Tenancy keys. Tenant tables: every table in zkeb, and any project table
    -- with a user_id column. user_id (NOT NULL) leads every primary key,
    -- unique key or index, exclusion constraint and foreign key, and leads an
    -- index. Exactly two exceptions: the global unique users(username_hash),
    -- and audit_logs (and its partitions), keyed by the pseudonymised
    -- user_hash, which has no user_id at all.
    RETURN QUERY
    WITH t AS (
        SELECT c.oid AS relid,
               (rn.nspname = 'zkeb' AND rc.relname = 'audit_logs') AS is_audit,
               ua.attnum AS uid_attnum, ua.attnotnull AS uid_notnull,
               ha.attnum AS hash_attnum
          FROM pg_catalog.pg_class AS c
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_class AS rc
            ON rc.oid = COALESCE(pg_catalog.pg_partition_root(c.oid), c.oid)
          JOIN pg_catalog.pg_namespace AS rn ON rn.oid = rc.relnamespace
          LEFT JOIN pg_catalog.pg_attribute AS ua
            ON ua.attrelid = c.oid AND ua.attname = 'user_id' AND NOT ua.attisdropped
          LEFT JOIN pg_catalog.pg_attribute AS ha
            ON ha.attrelid = c.oid AND ha.attname = 'user_hash' AND NOT ha.attisdropped
         WHERE c.relnamespace = ANY (_nsp) AND c.relkind IN ('r', 'p')
           AND (n.nspname = 'zkeb' OR ua.attnum IS NOT NULL)
    )
    SELECT 'tenant_user_id', t.relid::regclass::text,
           CASE WHEN t.is_audit THEN 'audit_logs must not carry user_id (it is keyed by user_hash)'
                WHEN t.uid_attnum IS NULL THEN 'tenant table without a user_id column'
                ELSE 'user_id is nullable' END
      FROM t
     WHERE (t.is_audit AND t.uid_attnum IS NOT NULL)
        OR (NOT t.is_audit AND (t.uid_attnum IS NULL OR NOT t.uid_notnull))
    UNION ALL
    SELECT 'tenant_unique_keys', i.indexrelid::regclass::text,
           pg_catalog.format('%s not led by %s: %s',
               CASE WHEN i.indisexclusion THEN 'exclusion constraint'
                    WHEN i.indisprimary THEN 'primary key' ELSE 'unique key' END,
               CASE WHEN t.is_audit THEN 'user_hash' ELSE 'user_id' END,
               pg_catalog.pg_get_indexdef(i.indexrelid))
      FROM t
      JOIN pg_catalog.pg_index AS i ON i.indrelid = t.relid
     WHERE (i.indisunique OR i.indisexclusion)
       AND i.indkey[0] IS DISTINCT FROM CASE WHEN t.is_audit THEN t.hash_attnum ELSE t.uid_attnum END
       AND NOT (t.relid = (SELECT x.oid FROM pg_catalog.pg_class AS x
                             JOIN pg_catalog.pg_namespace AS y ON y.oid = x.relnamespace
                            WHERE y.nspname = 'zkeb' AND x.relname = 'users')
                AND i.indisunique AND NOT i.indisexclusion AND i.indpred IS NULL
                AND i.indnkeyatts = 1 AND i.indnatts = 1
                AND i.indkey[0] = (SELECT a.attnum FROM pg_catalog.pg_attribute AS a
                                    WHERE a.attrelid = t.relid AND a.attname = 'username_hash'))
    UNION ALL
    SELECT 'tenant_index', t.relid::regclass::text,
           'no index led by ' || CASE WHEN t.is_audit THEN 'user_hash' ELSE 'user_id' END
      FROM t
     WHERE NOT EXISTS (
         SELECT 1 FROM pg_catalog.pg_index AS i
          WHERE i.indrelid = t.relid
            AND i.indkey[0] = CASE WHEN t.is_audit THEN t.hash_attnum ELSE t.uid_attnum END)
    UNION ALL
    SELECT 'tenant_foreign_keys', pg_catalog.format('%s.%I', o.conrelid::regclass, o.conname),
           'foreign key not led by user_id referencing user_id: ' || pg_catalog.pg_get_constraintdef(o.oid)
      FROM pg_catalog.pg_constraint AS o
      JOIN pg_catalog.pg_class AS c ON c.oid = o.conrelid
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE o.contype = 'f'
       AND (c.relnamespace = ANY (_nsp)
            OR o.confrelid IN (SELECT t.relid FROM t))
       AND NOT (
           (SELECT a.attname FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = o.conrelid AND a.attnum = o.conkey[1]) = 'user_id'
           AND (SELECT a.attname FROM pg_catalog.pg_attribute AS a
                 WHERE a.attrelid = o.confrelid AND a.attnum = o.confkey[1]) = 'user_id');

    -- The audit log is append-only even for the owner: enabled BEFORE
    -- triggers refuse UPDATE, DELETE (outside retention) and TRUNCATE.
    RETURN QUERY
    SELECT 'audit_append_only', 'zkeb.audit_logs',
           'no enabled BEFORE trigger covering ' || w.what
      FROM pg_catalog.pg_class AS c
      JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
      CROSS JOIN (VALUES ('UPDATE', 16), ('DELETE', 8), ('TRUNCATE', 32)) AS w(what, bit)
     WHERE n.nspname = 'zkeb' AND c.relname = 'audit_logs'
       AND NOT EXISTS (
           SELECT 1 FROM pg_catalog.pg_trigger AS g
            WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND g.tgenabled IN ('O', 'A')
              AND (g.tgtype & 2) <> 0 AND (g.tgtype & w.bit) <> 0);
END
$guard$;

COMMENT ON FUNCTION zkeb_private.guard_violations() IS
    'The zero-knowledge and tenancy catalog rules: one row (rule, object, detail) per violation, none when sound. Run by zkeb-db check and by this change''s verify script.';
REVOKE ALL ON FUNCTION zkeb_private.guard_violations() FROM PUBLIC;

COMMIT;
