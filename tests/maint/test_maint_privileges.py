"""Who may call zkeb_maint, and that maintenance never reaches stored content."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from zkeb_maint_testkit import add_backup, make_account

Conn = psycopg.Connection[Any]

# api.md, zkeb_maint: names, argument names and order, and the listed result columns.
CONTRACT = {
    "cleanup_expired_backups(batch_size integer)": ["deleted_count", "bytes_freed"],
    "purge_trash(older_than interval, batch_size integer)": ["deleted_count", "bytes_freed"],
    "purge_expired_sessions(batch_size integer)": ["deleted_count"],
    "purge_audit_logs(older_than interval, batch_size integer)": ["deleted_count"],
    "set_quota(user_id uuid, storage_quota_bytes bigint)": [],
    "verify_audit_chain(checkpoint jsonb)": ["ok", "checked_count", "first_bad_event_id"],
    "export_audit_checkpoint()": ["user_hash", "last_event_id", "last_row_hash"],
    "check_invariants()": ["invariant", "user_id", "detail"],
}
MAINT_FUNCTIONS = set(CONTRACT)
AUDITOR_FUNCTIONS = {"verify_audit_chain(checkpoint jsonb)", "export_audit_checkpoint()"}
# The only bytea a maintenance function returns: hashes of the audit log itself.
BYTEA_RESULTS = {"user_hash", "last_row_hash", "first_bad_user_hash"}


def _functions(su: Conn) -> list[tuple[Any, ...]]:
    return su.execute(
        """SELECT p.oid, pg_catalog.format('%s(%s)', p.proname,
                         pg_catalog.pg_get_function_identity_arguments(p.oid)),
                  p.prosecdef, p.proconfig, pg_catalog.obj_description(p.oid, 'pg_proc')
             FROM pg_catalog.pg_proc AS p
            WHERE p.pronamespace = 'zkeb_maint'::regnamespace
            ORDER BY 2"""
    ).fetchall()


def test_the_maintenance_functions_and_who_may_call_them(su: Conn) -> None:
    rows = _functions(su)
    assert {r[1] for r in rows} == MAINT_FUNCTIONS
    for oid, name, definer, config, comment in rows:
        assert definer, name
        out = su.execute(
            "SELECT a.name FROM pg_catalog.pg_proc AS p,"
            "       LATERAL unnest(p.proargnames, p.proargmodes)"
            "               WITH ORDINALITY AS a(name, mode, i)"
            " WHERE p.oid = %s AND a.mode = 't' ORDER BY a.i", [oid]).fetchall()
        listed = CONTRACT[name]
        assert [r[0] for r in out][:len(listed)] == listed, name
        # Every argument may be left out, but set_quota's.
        args = su.execute("SELECT pronargs, pronargdefaults FROM pg_catalog.pg_proc"
                          " WHERE oid = %s", [oid]).fetchone()
        assert args is not None
        assert args[1] == (0 if name.startswith("set_quota") else args[0]), name
        assert "search_path=pg_catalog, pg_temp" in config, name
        assert comment and "Errors:" in comment and "ZK403" in comment, name
        allowed = su.execute(
            """SELECT r.rolname FROM pg_catalog.pg_roles AS r
                WHERE r.rolname IN ('zkeb_app', 'zkeb_maintainer', 'zkeb_auditor', 'zkeb_owner')
                  AND pg_catalog.has_function_privilege(r.oid, %s::oid, 'EXECUTE')
                ORDER BY 1""",
            [oid],
        ).fetchall()
        expected = ["zkeb_maintainer", "zkeb_owner"]
        if name in AUDITOR_FUNCTIONS:
            expected = ["zkeb_auditor", *expected]
        assert [r[0] for r in allowed] == expected, name
        public = su.execute("SELECT has_function_privilege('public', %s::oid, 'EXECUTE')",
                            [oid]).fetchone()
        assert public == (False,), name


def test_the_app_cannot_call_any_maintenance_function(su: Conn, app_conn: Conn) -> None:
    make_account(su)
    for oid, name, *_ in _functions(su):
        nargs = su.execute("SELECT pronargs FROM pg_catalog.pg_proc WHERE oid = %s",
                           [oid]).fetchone()
        assert nargs is not None
        call = f"SELECT * FROM zkeb_maint.{name.split('(')[0]}({', '.join(['NULL'] * nargs[0])})"
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            app_conn.execute(call)


def test_the_auditor_can_only_verify_and_export(su: Conn, auditor: Conn) -> None:
    make_account(su)
    auditor.execute("SELECT * FROM zkeb_maint.verify_audit_chain()")
    auditor.execute("SELECT * FROM zkeb_maint.export_audit_checkpoint()")
    for call in ("cleanup_expired_backups()", "purge_trash()", "purge_expired_sessions()",
                 "purge_audit_logs()", "check_invariants()",
                 "set_quota('00000000-0000-0000-0000-000000000000', 1)"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            auditor.execute(f"SELECT * FROM zkeb_maint.{call}")


def test_the_maintainer_cannot_read_ciphertext(su: Conn, maint: Conn) -> None:
    acct = make_account(su)
    add_backup(su, acct, 64)
    # No privilege on any table, sequence or schema of the data.
    grants = su.execute(
        """SELECT c.oid::regclass::text FROM pg_catalog.pg_class AS c
            WHERE c.relnamespace IN ('zkeb'::regnamespace, 'zkeb_private'::regnamespace)
              AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
              AND (pg_catalog.has_table_privilege('zkeb_maintainer', c.oid,
                       'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
                   OR pg_catalog.has_table_privilege('zkeb_auditor', c.oid,
                       'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER'))"""
    ).fetchall()
    assert grants == []
    for statement in ("SELECT ciphertext FROM zkeb.encrypted_backups",
                      "COPY zkeb.encrypted_backups TO STDOUT"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            maint.execute(statement)
    # Nor through the helpers behind the maintenance functions.
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        maint.execute("SELECT * FROM zkeb_private.purge_backups(true, now(), 1)")
    # And no maintenance function returns stored content: the only bytea columns they
    # return are hashes of the audit log.
    outputs = su.execute(
        """SELECT p.proname, a.name, a.type::regtype::text
             FROM pg_catalog.pg_proc AS p,
                  LATERAL unnest(p.proargnames, p.proallargtypes, p.proargmodes)
                       AS a(name, type, mode)
            WHERE p.pronamespace = 'zkeb_maint'::regnamespace AND a.mode IN ('o', 't')"""
    ).fetchall()
    assert outputs, "the maintenance functions return columns"
    leaking = [(f, n) for f, n, t in outputs if t == "bytea" and n not in BYTEA_RESULTS]
    assert leaking == []
    names = {n for _, n, _ in outputs}
    assert not names & {"ciphertext", "nonce", "auth_tag", "signature", "encrypted_share",
                        "payload", "auth_verifier", "token_hash"}
