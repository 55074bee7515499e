"""The zero-knowledge and tenancy checker: passes on the deployed schema, and
fails, naming the object, on one planted violation of each rule.

Each planting runs in a transaction that is rolled back, in a clone of the
deployed template that the plantings of this module share (DDL, grants,
``ALTER ROLE`` and ``ALTER DATABASE`` are all transactional in PostgreSQL, so
nothing of one planting outlives it, and no other database of the cluster
ever sees a cluster-wide one). The checker runs inside that transaction and
the test asserts what the planting *added* to its findings. The command line
and the verify script tests commit their planting in a fresh clone (``db``),
since they look from another connection or process.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from zkeb_db import check
from zkeb_db.cli import main

Found = set[tuple[str, str]]


def found(conn: psycopg.Connection[Any], project: Path | None = None) -> Found:
    return {(v.rule, v.object) for v in check.run_catalog_checks(conn, project=project)}


@pytest.fixture(scope="module")
def plant_dsn(module_clone: str) -> str:
    """The clone of this module: clean at rest, every planting is rolled back."""
    return module_clone


@pytest.fixture(scope="module")
def plant_conn(plant_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(plant_dsn, autocommit=False) as conn:
        yield conn


def plant_and_check(conn: psycopg.Connection[Any], project: Path, statements: str) -> Found:
    """What the checker finds that it did not before ``statements`` (rolled back)."""
    dbname = conn.info.dbname
    try:
        with conn.transaction(force_rollback=True):
            before = found(conn, project)
            text = statements.replace("{db}", sql.Identifier(dbname).as_string(conn))
            conn.execute(text.encode())
            return found(conn, project) - before
    finally:
        conn.rollback()


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        rc = main(list(argv))
    return rc, out.getvalue()


# --------------------------------------------------------------------------
# The deployed schema passes
# --------------------------------------------------------------------------


def test_deployed_schema_passes_every_rule(plant_dsn: str) -> None:
    rc, out = run_cli("check", "--db", plant_dsn, "--json")
    doc = json.loads(out)
    failed = {r["rule"]: r["violations"] for r in doc["rules"] if not r["ok"]}
    assert failed == {}
    assert doc["ok"] is True
    assert rc == 0


def test_text_report_lists_every_rule(plant_dsn: str) -> None:
    rc, out = run_cli("check", "--db", plant_dsn)
    lines = out.splitlines()
    for rule in check.RULES:
        assert any(re.match(rf"^(PASS|FAIL)  {rule.name} ", ln) for ln in lines), rule.name
    assert lines[-1].startswith(f"{len(check.RULES)} rules, ")
    assert (rc == 0) == all(not ln.startswith("FAIL") for ln in lines)


def test_every_rule_is_implemented_in_the_guard_function(project_dir: Path) -> None:
    script = (project_dir / check.GUARD_SCRIPT).read_text(encoding="utf-8")
    for rule in check.RULES:
        if rule.name == "guard_function":
            continue  # the Python side's own rule
        assert f"'{rule.name}'" in script, rule.name


# --------------------------------------------------------------------------
# One planted violation per rule (rolled back in the module's clone)
# --------------------------------------------------------------------------

OWNER_FN = "SET ROLE zkeb_owner; {}; RESET ROLE"
PIN = "SET search_path = pg_catalog, pg_temp"
NEW_TENANT_TABLE = """
    SET ROLE zkeb_owner;
    CREATE TABLE zkeb.notes (
        user_id uuid NOT NULL REFERENCES zkeb.users (user_id),
        note_id uuid NOT NULL,
        note_hash bytea NOT NULL CHECK (octet_length(note_hash) = 32),
        PRIMARY KEY (user_id, note_id));
    ALTER TABLE zkeb.notes ENABLE ROW LEVEL SECURITY;
    ALTER TABLE zkeb.notes FORCE ROW LEVEL SECURITY;
    REVOKE ALL ON zkeb.notes FROM PUBLIC;
    CREATE POLICY notes_select_own ON zkeb.notes AS PERMISSIVE FOR SELECT TO zkeb_owner
        USING (user_id = (SELECT zkeb_private.current_user_id()));
    CREATE POLICY notes_update_own ON zkeb.notes AS PERMISSIVE FOR UPDATE TO zkeb_owner
        USING (user_id = (SELECT zkeb_private.current_user_id()))
        WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()));
    RESET ROLE;
"""

# (id, SQL run as the superuser in the clone ({db} is the database name), rule, object)
PLANTS: list[tuple[str, str, str, str]] = [
    # columns
    ("private_key_text_column", "ALTER TABLE zkeb.users ADD COLUMN private_key text",
     "secret_columns", "zkeb.users.private_key"),
    ("password_bytea_column", "ALTER TABLE zkeb.devices ADD COLUMN password bytea",
     "secret_columns", "zkeb.devices.password"),
    ("email_column", "ALTER TABLE zkeb.sessions ADD COLUMN email bytea",
     "secret_columns", "zkeb.sessions.email"),
    ("plaintext_column", "ALTER TABLE zkeb.encrypted_backups ADD COLUMN plaintext bytea",
     "secret_columns", "zkeb.encrypted_backups.plaintext"),
    ("username_column", "ALTER TABLE zkeb.users ADD COLUMN username bytea",
     "secret_columns", "zkeb.users.username"),
    ("phone_column", "ALTER TABLE zkeb.users ADD COLUMN phone_number bytea",
     "secret_columns", "zkeb.users.phone_number"),
    ("raw_token_column", "ALTER TABLE zkeb.sessions ADD COLUMN session_token bytea",
     "secret_columns", "zkeb.sessions.session_token"),
    ("text_column_outside_allowlist",
     "ALTER TABLE zkeb.encrypted_backups ADD COLUMN label varchar(40)",
     "text_columns", "zkeb.encrypted_backups.label"),
    ("text_array_column", "ALTER TABLE zkeb.devices ADD COLUMN tags text[]",
     "text_columns", "zkeb.devices.tags"),
    ("allowlisted_text_column_without_fixed_set",
     "ALTER TABLE zkeb.users DROP CONSTRAINT users_account_status_check",
     "text_columns", "zkeb.users.account_status"),
    ("allowlisted_text_column_with_open_check",
     "ALTER TABLE zkeb.audit_logs DROP CONSTRAINT audit_logs_action_check, "
     "ADD CONSTRAINT audit_logs_action_check CHECK (length(action) < 100)",
     "text_columns", "zkeb.audit_logs.action"),
    ("nonce_without_length_check",
     "ALTER TABLE zkeb.encrypted_backups DROP CONSTRAINT encrypted_backups_nonce_check",
     "bytea_columns", "zkeb.encrypted_backups.nonce"),
    ("auth_tag_wrong_length",
     "ALTER TABLE zkeb.encrypted_backups DROP CONSTRAINT encrypted_backups_auth_tag_check, "
     "ADD CONSTRAINT encrypted_backups_auth_tag_check CHECK (octet_length(auth_tag) = 12)",
     "bytea_columns", "zkeb.encrypted_backups.auth_tag"),
    ("hash_length_check_not_valid",
     "ALTER TABLE zkeb.users DROP CONSTRAINT users_username_hash_check, "
     "ADD CONSTRAINT users_username_hash_check CHECK (octet_length(username_hash) = 32) "
     "NOT VALID",
     "bytea_columns", "zkeb.users.username_hash"),
    ("hash_column_as_text", "ALTER TABLE zkeb.devices ADD COLUMN push_hash text",
     "bytea_columns", "zkeb.devices.push_hash"),
    ("signature_without_length_check",
     "ALTER TABLE zkeb.encrypted_backups DROP CONSTRAINT encrypted_backups_signature_check",
     "bytea_columns", "zkeb.encrypted_backups.signature"),
    ("json_column_unbounded", "ALTER TABLE zkeb.devices ADD COLUMN extra jsonb",
     "json_columns", "zkeb.devices.extra"),
    # row level security
    ("no_force_rls", "ALTER TABLE zkeb.devices NO FORCE ROW LEVEL SECURITY",
     "rls_forced", "zkeb.devices"),
    ("rls_disabled", "ALTER TABLE zkeb.sessions DISABLE ROW LEVEL SECURITY",
     "rls_forced", "zkeb.sessions"),
    ("settings_rls_not_forced", "ALTER TABLE zkeb_private.settings NO FORCE ROW LEVEL SECURITY",
     "rls_forced", "zkeb_private.settings"),
    ("partition_without_rls",
     """SET ROLE zkeb_owner;
        CREATE TABLE zkeb.events (user_id uuid NOT NULL, n int NOT NULL,
                                  PRIMARY KEY (user_id, n)) PARTITION BY HASH (user_id);
        ALTER TABLE zkeb.events ENABLE ROW LEVEL SECURITY;
        ALTER TABLE zkeb.events FORCE ROW LEVEL SECURITY;
        CREATE POLICY events_select_own ON zkeb.events FOR SELECT TO zkeb_owner
            USING (user_id = (SELECT zkeb_private.current_user_id()));
        CREATE TABLE zkeb.events_p0 PARTITION OF zkeb.events
            FOR VALUES WITH (MODULUS 1, REMAINDER 0);
        RESET ROLE""",
     "rls_forced", "zkeb.events_p0"),
    ("table_without_policies",
     NEW_TENANT_TABLE + "DROP POLICY notes_select_own ON zkeb.notes; "
     "DROP POLICY notes_update_own ON zkeb.notes",
     "rls_policies", "zkeb.notes"),
    # privileges on relations
    ("select_granted_to_app", "GRANT SELECT ON zkeb.users TO zkeb_app",
     "relation_privileges", "zkeb.users"),
    ("truncate_granted_to_app", "GRANT TRUNCATE ON zkeb.audit_logs TO zkeb_app",
     "relation_privileges", "zkeb.audit_logs"),
    ("column_granted_to_app", "GRANT SELECT (public_key) ON zkeb.devices TO zkeb_app",
     "relation_privileges", "zkeb.devices.public_key"),
    ("table_granted_to_public", "GRANT SELECT ON zkeb.encrypted_backups TO PUBLIC",
     "relation_privileges", "zkeb.encrypted_backups"),
    ("table_granted_to_auditor", "GRANT SELECT ON zkeb.audit_logs TO zkeb_auditor",
     "relation_privileges", "zkeb.audit_logs"),
    ("partition_granted_to_app",
     """SET ROLE zkeb_owner;
        CREATE TABLE zkeb.events (user_id uuid NOT NULL, n int NOT NULL,
                                  PRIMARY KEY (user_id, n)) PARTITION BY HASH (user_id);
        CREATE TABLE zkeb.events_p0 PARTITION OF zkeb.events
            FOR VALUES WITH (MODULUS 1, REMAINDER 0);
        RESET ROLE;
        GRANT SELECT ON zkeb.events_p0 TO zkeb_app""",
     "relation_privileges", "zkeb.events_p0"),
    ("sequence_granted_to_app",
     "CREATE SEQUENCE public.counter; GRANT USAGE ON SEQUENCE public.counter TO zkeb_app",
     "relation_privileges", "public.counter"),
    ("definer_view_granted_to_app",
     "CREATE VIEW public.leak AS SELECT user_id FROM zkeb.users; "
     "GRANT SELECT ON public.leak TO zkeb_app",
     "relation_privileges", "public.leak"),
    ("materialized_view_readable_by_app",
     "CREATE MATERIALIZED VIEW public.usage AS SELECT user_id, storage_used_bytes "
     "FROM zkeb.users; GRANT SELECT ON public.usage TO zkeb_app",
     "materialized_views", "public.usage"),
    ("user_rule", "CREATE RULE devices_notify AS ON INSERT TO zkeb.devices DO ALSO NOTIFY zkeb",
     "rules", "zkeb.devices.devices_notify"),
    # policies
    ("policy_to_public",
     "CREATE POLICY devices_select_audit ON zkeb.devices FOR SELECT "
     "USING (user_id = (SELECT zkeb_private.current_user_id()))",
     "policy_roles", "zkeb.devices.devices_select_audit"),
    ("policy_to_app_and_owner",
     "CREATE POLICY devices_delete_maint ON zkeb.devices FOR DELETE TO zkeb_owner, zkeb_app "
     "USING ((SELECT zkeb_private.maintenance_active()))",
     "policy_roles", "zkeb.devices.devices_delete_maint"),
    ("policy_using_true",
     "CREATE POLICY recovery_shares_select_maint ON zkeb.recovery_shares FOR SELECT "
     "TO zkeb_owner USING (true)",
     "policy_shape", "zkeb.recovery_shares.recovery_shares_select_maint"),
    ("policy_is_null_or",
     "CREATE POLICY sync_metadata_select_lookup ON zkeb.sync_metadata FOR SELECT TO zkeb_owner "
     "USING ((SELECT zkeb_private.current_user_id()) IS NULL "
     "OR user_id = (SELECT zkeb_private.current_user_id()))",
     "policy_shape", "zkeb.sync_metadata.sync_metadata_select_lookup"),
    ("policy_bare_helper",
     "CREATE POLICY recovery_shares_update_own ON zkeb.recovery_shares FOR UPDATE TO zkeb_owner "
     "USING (user_id = zkeb_private.current_user_id()) "
     "WITH CHECK (user_id = (SELECT zkeb_private.current_user_id()))",
     "policy_shape", "zkeb.recovery_shares.recovery_shares_update_own"),
    ("policy_current_setting",
     "CREATE POLICY devices_select_claimed ON zkeb.devices FOR SELECT TO zkeb_owner "
     "USING (user_id = (SELECT current_setting('zkeb.user_id', true)::uuid))",
     "policy_shape", "zkeb.devices.devices_select_claimed"),
    ("policy_wrong_column",
     "CREATE POLICY devices_select_claimed ON zkeb.devices FOR SELECT TO zkeb_owner "
     "USING (device_id = (SELECT zkeb_private.current_user_id()))",
     "policy_shape", "zkeb.devices.devices_select_claimed"),
    ("policy_with_check_true",
     "CREATE POLICY recovery_shares_insert_maint ON zkeb.recovery_shares FOR INSERT "
     "TO zkeb_owner WITH CHECK (true)",
     "policy_shape", "zkeb.recovery_shares.recovery_shares_insert_maint"),
    ("settings_policy_widened",
     "ALTER POLICY settings_select_owner ON zkeb_private.settings USING (true)",
     "policy_shape", "zkeb_private.settings.settings_select_owner"),
    ("settings_shape_elsewhere",
     "CREATE POLICY devices_select_owner ON zkeb.devices FOR SELECT TO zkeb_owner "
     "USING (current_user = 'zkeb_owner')",
     "policy_shape", "zkeb.devices.devices_select_owner"),
    ("update_policy_without_with_check",
     "CREATE POLICY recovery_shares_update_own ON zkeb.recovery_shares FOR UPDATE TO zkeb_owner "
     "USING (user_id = (SELECT zkeb_private.current_user_id()))",
     "policy_with_check", "zkeb.recovery_shares.recovery_shares_update_own"),
    ("policy_badly_named",
     "CREATE POLICY let_me_in ON zkeb.devices FOR SELECT TO zkeb_owner "
     "USING (user_id = (SELECT zkeb_private.current_user_id()))",
     "policy_naming", "zkeb.devices.let_me_in"),
    # functions
    ("definer_without_search_path",
     OWNER_FN.format("CREATE FUNCTION zkeb_private.leaky() RETURNS int LANGUAGE sql "
                     "SECURITY DEFINER AS 'SELECT 1'; "
                     "REVOKE ALL ON FUNCTION zkeb_private.leaky() FROM PUBLIC"),
     "definer_search_path", "zkeb_private.leaky()"),
    ("definer_search_path_empty",
     OWNER_FN.format("CREATE FUNCTION zkeb_private.leaky() RETURNS int LANGUAGE sql "
                     "SECURITY DEFINER SET search_path = '' AS 'SELECT 1'; "
                     "REVOKE ALL ON FUNCTION zkeb_private.leaky() FROM PUBLIC"),
     "definer_search_path", "zkeb_private.leaky()"),
    ("invoker_without_search_path",
     OWNER_FN.format("CREATE FUNCTION zkeb_private.helper(x int) RETURNS int LANGUAGE sql "
                     "IMMUTABLE AS 'SELECT x + 1'; "
                     "REVOKE ALL ON FUNCTION zkeb_private.helper(int) FROM PUBLIC"),
     "function_search_path", "zkeb_private.helper(integer)"),
    ("definer_owned_by_superuser",
     f"CREATE FUNCTION zkeb_private.su() RETURNS int LANGUAGE sql SECURITY DEFINER {PIN} "
     "AS 'SELECT 1'; REVOKE ALL ON FUNCTION zkeb_private.su() FROM PUBLIC",
     "definer_owner", "zkeb_private.su()"),
    ("function_owned_by_superuser",
     f"CREATE FUNCTION zkeb_private.su() RETURNS int LANGUAGE sql {PIN} "
     "AS 'SELECT 1'; REVOKE ALL ON FUNCTION zkeb_private.su() FROM PUBLIC",
     "ownership", "zkeb_private.su()"),
    ("execute_granted_to_public",
     "GRANT EXECUTE ON FUNCTION zkeb_private.current_user_id() TO PUBLIC",
     "function_public_execute", "zkeb_private.current_user_id()"),
    ("function_created_with_default_acl",
     f"CREATE FUNCTION zkeb_private.su() RETURNS int LANGUAGE sql {PIN} AS 'SELECT 1'",
     "function_public_execute", "zkeb_private.su()"),
    ("execute_granted_to_other_role",
     "GRANT EXECUTE ON FUNCTION zkeb_private.settings() TO pg_monitor",
     "function_grantees", "zkeb_private.settings()"),
    ("extra_api_function_for_app",
     OWNER_FN.format(f"CREATE FUNCTION zkeb_api.backdoor() RETURNS int LANGUAGE sql "
                     f"SECURITY DEFINER {PIN} AS 'SELECT 1'; "
                     "REVOKE ALL ON FUNCTION zkeb_api.backdoor() FROM PUBLIC; "
                     "GRANT EXECUTE ON FUNCTION zkeb_api.backdoor() TO zkeb_app"),
     "app_execute", "zkeb_api.backdoor()"),
    ("private_helper_granted_to_app",
     "GRANT EXECUTE ON FUNCTION zkeb_private.current_user_id() TO zkeb_app",
     "app_execute", "zkeb_private.current_user_id()"),
    ("overloaded_api_function",
     OWNER_FN.format(f"CREATE FUNCTION zkeb_api.whoami(extra int) RETURNS int LANGUAGE sql "
                     f"SECURITY DEFINER {PIN} AS 'SELECT 1'; "
                     "REVOKE ALL ON FUNCTION zkeb_api.whoami(int) FROM PUBLIC"),
     "app_execute", "zkeb_api.whoami(integer)"),
    ("maintainer_gets_private_function",
     "GRANT EXECUTE ON FUNCTION zkeb_private.audit(uuid, text, boolean, jsonb) "
     "TO zkeb_maintainer",
     "maintainer_execute", "zkeb_private.audit(uuid,text,boolean,jsonb)"),
    ("auditor_gets_private_function",
     "GRANT EXECUTE ON FUNCTION zkeb_private.settings() TO zkeb_auditor",
     "auditor_execute", "zkeb_private.settings()"),
    ("leakproof_function",
     f"CREATE FUNCTION zkeb_private.positive(x int) RETURNS boolean LANGUAGE sql IMMUTABLE "
     f"LEAKPROOF {PIN} AS 'SELECT x > 0'; "
     "ALTER FUNCTION zkeb_private.positive(int) OWNER TO zkeb_owner; "
     "REVOKE ALL ON FUNCTION zkeb_private.positive(int) FROM PUBLIC",
     "leakproof", "zkeb_private.positive(integer)"),
    ("function_sets_tenant_context",
     "ALTER FUNCTION zkeb_private.claimed_user_id() SET zkeb.session_token = 'x'",
     "function_config", "zkeb_private.claimed_user_id()"),
    ("function_sets_row_security_off",
     "ALTER FUNCTION zkeb_private.settings() SET row_security = off",
     "function_config", "zkeb_private.settings()"),
    # keys and indexes
    ("global_unique_key", "ALTER TABLE zkeb.devices "
     "ADD CONSTRAINT devices_hash_global_key UNIQUE (device_id_hash)",
     "tenant_unique_keys", "zkeb.devices_hash_global_key"),
    ("unique_index_user_id_not_leading",
     "CREATE UNIQUE INDEX sessions_token_idx ON zkeb.sessions (token_hash, user_id)",
     "tenant_unique_keys", "zkeb.sessions_token_idx"),
    ("exclusion_constraint_without_user_id",
     "ALTER TABLE zkeb.recovery_shares ADD CONSTRAINT recovery_shares_guardian_excl "
     "EXCLUDE USING btree (guardian_hash WITH =)",
     "tenant_unique_keys", "zkeb.recovery_shares_guardian_excl"),
    ("audit_log_unique_not_by_user_hash",
     "CREATE UNIQUE INDEX audit_logs_row_hash_idx ON zkeb.audit_logs (row_hash)",
     "tenant_unique_keys", "zkeb.audit_logs_row_hash_idx"),
    ("foreign_key_without_user_id",
     "ALTER TABLE zkeb.recovery_shares ADD COLUMN guardian_user uuid "
     "REFERENCES zkeb.users (user_id)",
     "tenant_foreign_keys", "zkeb.recovery_shares.recovery_shares_guardian_user_fkey"),
    ("tenant_table_without_user_id",
     "SET ROLE zkeb_owner; CREATE TABLE zkeb.globals (id int PRIMARY KEY); RESET ROLE",
     "tenant_user_id", "zkeb.globals"),
    ("tenant_table_nullable_user_id",
     "SET ROLE zkeb_owner; CREATE TABLE zkeb.loose (user_id uuid, n int); RESET ROLE",
     "tenant_user_id", "zkeb.loose"),
    ("tenant_table_without_user_id_index",
     "SET ROLE zkeb_owner; CREATE TABLE zkeb.loose (user_id uuid NOT NULL, n int); RESET ROLE",
     "tenant_index", "zkeb.loose"),
    ("audit_log_gets_user_id", "ALTER TABLE zkeb.audit_logs ADD COLUMN user_id uuid",
     "tenant_user_id", "zkeb.audit_logs"),
    ("audit_log_trigger_disabled",
     "ALTER TABLE zkeb.audit_logs DISABLE TRIGGER audit_logs_append_only_row",
     "audit_append_only", "zkeb.audit_logs"),
    # database, schemas, ownership, defaults, extensions, settings (database-local)
    ("temp_granted_to_app", "GRANT TEMPORARY ON DATABASE {db} TO zkeb_app",
     "app_database_privileges", "database {db}"),
    ("create_on_database_for_app", "GRANT CREATE ON DATABASE {db} TO zkeb_app",
     "app_database_privileges", "database {db}"),
    ("usage_on_data_schema_for_app", "GRANT USAGE ON SCHEMA zkeb TO zkeb_app",
     "app_schema_privileges", "zkeb"),
    ("usage_on_registry_schema_for_app", "GRANT USAGE ON SCHEMA sqitch TO zkeb_app",
     "app_schema_privileges", "sqitch"),
    ("create_on_api_schema_for_app", "GRANT CREATE ON SCHEMA zkeb_api TO zkeb_app",
     "app_schema_privileges", "zkeb_api"),
    ("create_on_public_for_everyone", "GRANT CREATE ON SCHEMA public TO PUBLIC",
     "schema_privileges", "public"),
    ("usage_on_private_schema_for_public", "GRANT USAGE ON SCHEMA zkeb_private TO PUBLIC",
     "schema_privileges", "zkeb_private"),
    ("table_owned_by_superuser", "ALTER TABLE zkeb.devices OWNER TO postgres",
     "ownership", "zkeb.devices"),
    ("type_owned_by_superuser", "CREATE TYPE zkeb.mood AS ENUM ('ok')",
     "ownership", "zkeb.mood"),
    ("default_execute_back_to_public",
     "ALTER DEFAULT PRIVILEGES FOR ROLE zkeb_owner GRANT EXECUTE ON FUNCTIONS TO PUBLIC",
     "default_privileges", "zkeb_owner"),
    ("default_table_grant_to_app",
     "ALTER DEFAULT PRIVILEGES FOR ROLE zkeb_owner IN SCHEMA zkeb "
     "GRANT SELECT ON TABLES TO zkeb_app",
     "default_privileges", "zkeb_owner in schema zkeb"),
    ("extension_in_public", "CREATE EXTENSION pgcrypto SCHEMA public",
     "extensions", "pgcrypto"),
    ("role_in_database_sets_session_token",
     "ALTER ROLE zkeb_app IN DATABASE {db} SET zkeb.session_token = 'forged'",
     "role_settings", "role zkeb_app in database {db}"),
    ("database_sets_row_security_off", "ALTER DATABASE {db} SET row_security = off",
     "role_settings", "database {db}"),
    ("database_sets_search_path", "ALTER DATABASE {db} SET search_path = zkeb, public",
     "role_settings", "database {db}"),
]


@pytest.mark.parametrize(("statements", "rule", "obj"), [p[1:] for p in PLANTS],
                         ids=[p[0] for p in PLANTS])
def test_planted_violation_is_named(plant_conn: psycopg.Connection[Any], project_dir: Path,
                                    statements: str, rule: str, obj: str) -> None:
    obj = obj.replace("{db}", plant_conn.info.dbname)
    added = plant_and_check(plant_conn, project_dir, statements)
    assert (rule, obj) in added, f"{rule} did not name {obj}; it added {sorted(added)}"


def test_every_rule_has_a_planted_violation() -> None:
    planted = {p[2] for p in PLANTS} | {p[2] for p in CLUSTER_PLANTS} | {"guard_function"}
    assert {r.name for r in check.RULES} - planted == set()


def test_well_formed_new_table_is_tolerated(plant_conn: psycopg.Connection[Any],
                                            project_dir: Path) -> None:
    """Another engineer's table that follows the rules adds no violation."""
    check_sql = "SELECT to_regclass('zkeb.notes') IS NOT NULL"
    added = plant_and_check(plant_conn, project_dir, NEW_TENANT_TABLE + ";" + check_sql)
    assert added == set()


def test_missing_or_ungranted_api_function_fails(plant_conn: psycopg.Connection[Any],
                                                 project_dir: Path) -> None:
    row = plant_conn.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "WHERE p.pronamespace = 'zkeb_api'::regnamespace AND p.proname = 'whoami'"
    ).fetchone()
    plant_conn.rollback()
    if row is None:
        # The API is not deployed: every allowlisted function is reported missing.
        violations = check.run_catalog_checks(plant_conn, project=project_dir)
        assert check.Violation("app_execute", "zkeb_api.whoami",
                               "allowlisted function does not exist") in violations
        return
    added = plant_and_check(plant_conn, project_dir,
                            f"REVOKE EXECUTE ON FUNCTION {row[0]} FROM zkeb_app")
    assert ("app_execute", "zkeb_api.whoami") in added
    added = plant_and_check(plant_conn, project_dir, f"DROP FUNCTION {row[0]}")
    assert ("app_execute", "zkeb_api.whoami") in added


# --------------------------------------------------------------------------
# Cluster-wide plantings: inside a transaction that is rolled back
# --------------------------------------------------------------------------

CLUSTER_PLANTS: list[tuple[str, str, str, str]] = [
    ("owner_bypassrls", "ALTER ROLE zkeb_owner BYPASSRLS", "owner_role_attributes", "zkeb_owner"),
    ("owner_superuser", "ALTER ROLE zkeb_owner SUPERUSER", "owner_role_attributes", "zkeb_owner"),
    ("owner_login", "ALTER ROLE zkeb_owner LOGIN", "owner_role_attributes", "zkeb_owner"),
    ("owner_createrole", "ALTER ROLE zkeb_owner CREATEROLE", "owner_role_attributes",
     "zkeb_owner"),
    ("owner_createdb", "ALTER ROLE zkeb_owner CREATEDB", "owner_role_attributes", "zkeb_owner"),
    ("app_bypassrls", "ALTER ROLE zkeb_app BYPASSRLS", "group_role_attributes", "zkeb_app"),
    ("app_member_of_owner", "GRANT zkeb_owner TO zkeb_app", "role_membership", "zkeb_app"),
    ("maintainer_member_of_owner", "GRANT zkeb_owner TO zkeb_maintainer", "role_membership",
     "zkeb_maintainer"),
    ("app_role_sets_session_token", "ALTER ROLE zkeb_app SET zkeb.session_token = 'forged'",
     "role_settings", "role zkeb_app"),
    ("every_role_sets_row_security", "ALTER ROLE ALL SET row_security = off",
     "role_settings", "all roles"),
    ("role_missing", "ALTER ROLE zkeb_auditor RENAME TO zkeb_auditor_gone",
     "roles_exist", "zkeb_auditor"),
]


@pytest.mark.parametrize(("statement", "rule", "obj"), [p[1:] for p in CLUSTER_PLANTS],
                         ids=[p[0] for p in CLUSTER_PLANTS])
def test_cluster_violation_is_named(plant_conn: psycopg.Connection[Any], project_dir: Path,
                                    statement: str, rule: str, obj: str) -> None:
    added = plant_and_check(plant_conn, project_dir, statement)
    assert (rule, obj) in added, f"{rule} did not name {obj}; it added {sorted(added)}"
    # rolled back: the cluster is as it was
    row = plant_conn.execute(
        "SELECT rolsuper, rolbypassrls, rolcanlogin, rolcreaterole, rolcreatedb "
        "FROM pg_roles WHERE rolname = 'zkeb_owner'").fetchone()
    plant_conn.rollback()
    assert row == (False, False, False, False, False)


def test_login_role_that_can_become_owner_is_named(plant_conn: psycopg.Connection[Any],
                                                    project_dir: Path) -> None:
    added = plant_and_check(plant_conn, project_dir, "GRANT zkeb_owner TO zkeb_test_app")
    assert ("role_membership", "zkeb_test_app") in added


# --------------------------------------------------------------------------
# The checker cannot be switched off from inside the database
# --------------------------------------------------------------------------

SILENT_GUARD = """
    CREATE OR REPLACE FUNCTION zkeb_private.guard_violations()
    RETURNS TABLE (rule text, object text, detail text)
    LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp
    AS $$ SELECT NULL::text, NULL::text, NULL::text WHERE false $$
"""


@pytest.mark.parametrize("tamper", [SILENT_GUARD, "DROP FUNCTION zkeb_private.guard_violations()"],
                         ids=["replaced_by_silent_one", "dropped"])
def test_tampered_checker_is_caught(plant_conn: psycopg.Connection[Any], project_dir: Path,
                                    tamper: str) -> None:
    added = plant_and_check(plant_conn, project_dir,
                            "GRANT SELECT ON zkeb.users TO zkeb_app; " + tamper)
    assert ("guard_function", "zkeb_private.guard_violations()") in added
    # the shipped rules ran anyway and still name the planted grant
    assert ("relation_privileges", "zkeb.users") in added


# --------------------------------------------------------------------------
# The command line and the verify script fail on a violation
# --------------------------------------------------------------------------


def test_cli_fails_and_names_the_object(db: Any) -> None:
    db.connect().execute("ALTER TABLE zkeb.devices NO FORCE ROW LEVEL SECURITY")
    rc, out = run_cli("check", "--db", db.dsn)
    assert rc == 1
    lines = out.splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.startswith("FAIL  rls_forced "))
    assert lines[i + 1].strip() == "zkeb.devices: row level security is not forced"
    rc, out = run_cli("check", "--db", db.dsn, "--json")
    doc = json.loads(out)
    assert rc == 1 and doc["ok"] is False
    (rls,) = [r for r in doc["rules"] if r["rule"] == "rls_forced"]
    assert rls["violations"] == [{"rule": "rls_forced", "object": "zkeb.devices",
                                  "detail": "row level security is not forced"}]


def test_cli_data_option(plant_dsn: str) -> None:
    rc, out = run_cli("check", "--db", plant_dsn, "--data")
    (line,) = [ln for ln in out.splitlines() if " data_invariants " in ln]
    assert line.startswith("PASS")  # a fresh clone holds no data to break
    assert rc == 0


def test_data_option_reports_broken_data(plant_conn: psycopg.Connection[Any],
                                         project_dir: Path) -> None:
    try:
        with plant_conn.transaction(force_rollback=True):
            # an account charged for bytes it does not store
            plant_conn.execute(
                "INSERT INTO zkeb.users (username_hash, auth_salt, auth_verifier, kdf_params, "
                "storage_quota_bytes, storage_used_bytes) "
                "VALUES (sha256('u'), sha256('s'), sha256('v'), '{}', 100, 7)")
            report = check.run_checks(plant_conn, project=project_dir, data=True)
            catalog_only = check.run_checks(plant_conn, project=project_dir)
    finally:
        plant_conn.rollback()
    data = [v for v in report.violations if v.rule.startswith("data_invariants:")]
    assert data, report.violations
    assert report.failed_rules() == ["data_invariants"]
    assert "FAIL  data_invariants" in check.render_text(report)
    assert catalog_only.ok


def _psql_verify(dsn: str, project_dir: Path) -> subprocess.CompletedProcess[str]:
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    return subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname", dsn,
         "-f", str(project_dir / "verify" / "function_private_guard_violations.sql")],
        capture_output=True, text=True, check=False,
    )


def test_verify_script_passes_on_the_deployed_schema(plant_dsn: str, project_dir: Path) -> None:
    proc = _psql_verify(plant_dsn, project_dir)
    assert proc.returncode == 0, proc.stderr


def test_verify_script_raises_naming_the_violation(db: Any, project_dir: Path) -> None:
    db.connect().execute("GRANT SELECT ON zkeb.sessions TO zkeb_app")
    proc = _psql_verify(db.dsn, project_dir)
    assert proc.returncode != 0
    assert "relation_privileges: zkeb.sessions (zkeb_app has privileges on this table)" in (
        proc.stderr)

