"""The zkeb_api catalog against the contract (api.md), walked both ways."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import psycopg
import pytest

from zkeb_db import client as client_module
from zkeb_db.errors import REGISTRY

# api.md: name -> (arguments (name, type, has default), result columns (name, type)).
TS = "timestamp with time zone"
TOKEN = ("session_token", "bytea", False)
CONTRACT: dict[str, tuple[list[tuple[str, str, bool]], list[tuple[str, str]]]] = {
    "prelogin": ([("username_hash", "bytea", False)],
                 [("auth_salt", "bytea"), ("kdf_params", "jsonb")]),
    "register_user": ([("username_hash", "bytea", False), ("auth_salt", "bytea", False),
                       ("auth_key", "bytea", False), ("kdf_params", "jsonb", False)],
                      [("user_id", "uuid")]),
    "login": ([("username_hash", "bytea", False), ("auth_key", "bytea", False),
               ("device_id", "uuid", True), ("ttl", "interval", True)],
              [("status", "text"), ("session_token", "bytea"), ("user_id", "uuid"),
               ("expires_at", TS), ("retry_after", "interval")]),
    "logout": ([TOKEN], []),
    "whoami": ([TOKEN], [("user_id", "uuid"), ("storage_quota_bytes", "bigint"),
                         ("storage_used_bytes", "bigint"), ("account_status", "text")]),
    "delete_account": ([TOKEN], [("erasure_receipt", "jsonb")]),
    "register_device": ([TOKEN, ("device_id_hash", "bytea", False), ("public_key", "bytea", False),
                         ("key_algorithm", "text", False)], [("device_id", "uuid")]),
    "revoke_device": ([TOKEN, ("device_id", "uuid", False)], []),
    "list_devices": ([TOKEN], [("device_id", "uuid"), ("device_id_hash", "bytea"),
                               ("key_algorithm", "text"), ("public_key", "bytea"),
                               ("created_at", TS), ("revoked_at", TS)]),
    "create_backup": ([TOKEN, ("backup_id", "uuid", False), ("device_id", "uuid", False),
                       ("backup_name_hash", "bytea", False), ("ciphertext", "bytea", False),
                       ("nonce", "bytea", False), ("auth_tag", "bytea", False),
                       ("signature", "bytea", False), ("expires_at", TS, True)],
                      [("created_at", TS), ("storage_used_bytes", "bigint"),
                       ("replayed", "boolean")]),
    "list_backups": ([TOKEN, ("page_size", "integer", True), ("before_created_at", TS, True),
                      ("before_id", "uuid", True), ("only_name_hash", "bytea", True),
                      ("in_trash", "boolean", True)],
                     [("backup_id", "uuid"), ("backup_name_hash", "bytea"), ("device_id", "uuid"),
                      ("size_bytes", "bigint"), ("created_at", TS), ("expires_at", TS),
                      ("deleted_at", TS)]),
    "get_backup": ([TOKEN, ("backup_id", "uuid", False)],
                   [("ciphertext", "bytea"), ("nonce", "bytea"), ("auth_tag", "bytea"),
                    ("signature", "bytea"), ("device_id", "uuid"), ("public_key", "bytea"),
                    ("key_algorithm", "text"), ("created_at", TS)]),
    "delete_backup": ([TOKEN, ("backup_id", "uuid", False)], []),
    "restore_backup": ([TOKEN, ("backup_id", "uuid", False)], []),
    "purge_backup": ([TOKEN, ("backup_id", "uuid", False)], []),
    "storage_usage": ([TOKEN], [("storage_quota_bytes", "bigint"), ("storage_used_bytes", "bigint"),
                                ("backup_count", "bigint"), ("trashed_count", "bigint")]),
    "store_recovery_shares": ([TOKEN, ("threshold", "integer", False),
                               ("guardian_hashes", "bytea[]", False),
                               ("share_indexes", "integer[]", False),
                               ("encrypted_shares", "bytea[]", False)],
                              [("recovery_set_id", "uuid")]),
    "list_recovery_shares": ([TOKEN], [("recovery_set_id", "uuid"), ("guardian_hash", "bytea"),
                                       ("share_index", "integer"), ("threshold", "integer"),
                                       ("total_shares", "integer"), ("encrypted_share", "bytea"),
                                       ("created_at", TS)]),
    "sync_push": ([TOKEN, ("entity_hash", "bytea", False), ("device_id", "uuid", False),
                   ("vector_clock", "jsonb", False), ("lamport", "bigint", False),
                   ("payload", "bytea", True)],
                  [("status", "text"), ("seq", "bigint"), ("merged_clock", "jsonb")]),
    "sync_pull": ([TOKEN, ("after_seq", "bigint", True), ("page_size", "integer", True)],
                  [("seq", "bigint"), ("entity_hash", "bytea"), ("device_id", "uuid"),
                   ("vector_clock", "jsonb"), ("lamport", "bigint"), ("payload", "bytea"),
                   ("is_sibling", "boolean")]),
    "list_audit_events": ([TOKEN, ("page_size", "integer", True), ("before_id", "bigint", True)],
                          [("event_id", "bigint"), ("action", "text"), ("success", "boolean"),
                           ("created_at", TS), ("metadata", "jsonb")]),
}

ALLOWLIST = {
    f"zkeb_api.{name}({','.join(t for _, t, _ in args)})" for name, (args, _) in CONTRACT.items()
}

CATALOG = """
SELECT p.oid, n.nspname, p.proname, p.oid::regprocedure::text AS signature,
       p.prosecdef, p.proconfig, l.lanname, p.pronargs, p.pronargdefaults, p.prosrc,
       pg_catalog.pg_get_userbyid(p.proowner) AS owner,
       COALESCE(p.proargnames, '{}') AS argnames,
       COALESCE(p.proargmodes::text[],
                pg_catalog.array_fill('i'::text, ARRAY[p.pronargs::int])) AS argmodes,
       ARRAY(SELECT pg_catalog.format_type(t.oid, NULL)
               FROM pg_catalog.unnest(COALESCE(p.proallargtypes, p.proargtypes::oid[]))
                    WITH ORDINALITY AS t(oid, ord)
              ORDER BY t.ord) AS argtypes,
       pg_catalog.obj_description(p.oid, 'pg_proc') AS comment,
       ARRAY(SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                  ELSE pg_catalog.pg_get_userbyid(a.grantee) END
               FROM pg_catalog.aclexplode(
                        COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) AS a
              WHERE a.privilege_type = 'EXECUTE'
              ORDER BY 1) AS executors
  FROM pg_catalog.pg_proc AS p
  JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_language AS l ON l.oid = p.prolang
 WHERE n.nspname = %s
"""


def _functions(su: psycopg.Connection[Any], schema: str) -> dict[str, dict[str, Any]]:
    with su.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return {r["proname"]: r for r in cur.execute(CATALOG, [schema]).fetchall()}


def test_every_documented_function_exists_as_documented(su: psycopg.Connection[Any]) -> None:
    functions = _functions(su, "zkeb_api")
    assert sorted(functions) == sorted(CONTRACT), "zkeb_api holds exactly the api.md functions"
    for name, (args, result) in CONTRACT.items():
        fn = functions[name]
        modes, names, types = fn["argmodes"], fn["argnames"], fn["argtypes"]
        inputs = [(n, t) for n, t, m in zip(names, types, modes, strict=True) if m in ("i", "b")]
        outputs = [(n, t) for n, t, m in zip(names, types, modes, strict=True) if m in ("o", "t")]
        assert inputs == [(n, t) for n, t, _ in args], name
        assert outputs == result, name
        # Defaults exactly where documented; they are trailing, the token has none.
        assert fn["pronargdefaults"] == sum(d for _, _, d in args), name
        assert [d for _, _, d in args] == sorted(d for _, _, d in args), name
        assert fn["signature"] in ALLOWLIST


def test_every_api_function_is_hardened(su: psycopg.Connection[Any]) -> None:
    for name, fn in _functions(su, "zkeb_api").items():
        assert fn["prosecdef"], f"{name} is not SECURITY DEFINER"
        assert fn["proconfig"] == ["search_path=pg_catalog, pg_temp"], name
        assert fn["lanname"] == "plpgsql", name
        assert fn["owner"] == "zkeb_owner", name
        if name not in ("prelogin", "register_user", "login"):
            # Session functions enter the session context first.
            body = fn["prosrc"].split("BEGIN", 1)[1]
            first = body.strip().split(";", 1)[0]
            assert first == f"_uid := zkeb_private.begin_session({name}.session_token)", name
        else:
            assert "zkeb_private.begin_lookup(" in fn["prosrc"], name
        assert "OFFSET" not in fn["prosrc"].upper(), name


def test_callable_by_zkeb_app_and_nobody_else(su: psycopg.Connection[Any]) -> None:
    # One way: every allowlisted function, and only zkeb_app (plus its owner) may run it.
    for name, fn in _functions(su, "zkeb_api").items():
        assert fn["executors"] == ["zkeb_app", "zkeb_owner"], name
    # The other way: every function zkeb_app can execute, in any non-system schema, is listed.
    executable = {
        r[0]
        for r in su.execute(
            """SELECT p.oid::regprocedure::text
                 FROM pg_catalog.pg_proc AS p
                 JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND n.nspname NOT LIKE 'pg\\_toast%%'
                  AND pg_catalog.has_function_privilege('zkeb_app', p.oid, 'EXECUTE')"""
        ).fetchall()
    }
    assert executable == ALLOWLIST
    # And no other zkeb role reaches an API function (directly or through membership).
    for role in ("zkeb_maintainer", "zkeb_auditor", "zkeb_test_maint", "zkeb_test_auditor"):
        leaked = su.execute(
            """SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc AS p
                WHERE p.pronamespace = 'zkeb_api'::regnamespace
                  AND pg_catalog.has_function_privilege(%s, p.oid, 'EXECUTE')""",
            [role],
        ).fetchall()
        assert leaked == [], role


def test_privileges_hold_when_called(db: Any) -> None:
    maint = db.connect("maint")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        maint.execute("SELECT * FROM zkeb_api.whoami(NULL)")
    app = db.connect("app")
    for query in ("SELECT zkeb_private.current_user_id()",
                  "SELECT zkeb_private.begin_session(NULL)",
                  "SELECT zkeb_private.audit(NULL, 'logout', true)"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app.execute(query)


def test_comments_name_every_code_the_function_raises(su: psycopg.Connection[Any]) -> None:
    for name, fn in _functions(su, "zkeb_api").items():
        comment = fn["comment"] or ""
        summary, sep, errors_part = comment.partition("Errors:")
        assert sep, f"{name}: COMMENT ON FUNCTION has no 'Errors:' part"
        assert summary.strip().endswith("."), name
        listed = set(re.findall(r"\bZK\d{3}\b", errors_part))
        assert listed <= set(REGISTRY), name
        raised = set(re.findall(r"ERRCODE = '(ZK\d{3})'", fn["prosrc"]))
        if "zkeb_private.begin_session(" in fn["prosrc"]:
            raised |= {"ZK401", "ZK403"}
        assert raised <= listed, f"{name} raises {raised - listed} without listing them"
        # Nothing listed that the function cannot raise.
        assert listed <= raised, f"{name} lists {listed - raised} it never raises"


def test_client_rows_and_sql_match_the_catalog() -> None:
    for name, (args, result) in CONTRACT.items():
        sql = client_module._query(name)
        assert f"zkeb_api.{name}(" in sql
        named = re.findall(r"(\w+) => %\((\w+)\)s::", sql)
        assert named == [(n, n) for n, _, _ in args], name
        if result:
            fields = [f.name for f in dataclasses.fields(client_module.ROW_TYPES[name])]
            assert fields == [n for n, _ in result], name
        else:
            assert name in client_module.VOID_FUNCTIONS
    assert set(client_module.ROW_TYPES) | client_module.VOID_FUNCTIONS == set(CONTRACT)
