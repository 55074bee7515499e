"""The ZK error registry: every code maps to its class through SQL, and the SQL uses no other."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from zkeb_db import errors
from zkeb_db.client import Client
from zkeb_db.errors import (
    REGISTRY,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    QuotaExceeded,
    RateLimited,
    Unauthenticated,
    ZkebError,
    wrap_errors,
)

EXPECTED = {
    "ZK401": Unauthenticated,
    "ZK403": Forbidden,
    "ZK404": NotFound,
    "ZK409": Conflict,
    "ZK413": QuotaExceeded,
    "ZK422": InvalidInput,
    "ZK429": RateLimited,
}


def test_registry_is_the_documented_table() -> None:
    assert {code: entry.exception for code, entry in REGISTRY.items()} == EXPECTED
    for code, entry in REGISTRY.items():
        assert entry.code == code
        assert entry.meaning
        assert issubclass(entry.exception, ZkebError)
        assert entry.exception.code == code
    # One class per code: a code never shares its class with another.
    assert len({e.exception for e in REGISTRY.values()}) == len(REGISTRY)


def test_every_code_raised_in_sql_becomes_its_class(db: Any) -> None:
    conn = db.connect("app")
    for code in sorted(REGISTRY):
        with pytest.raises(ZkebError) as info, wrap_errors():
            conn.execute(
                f"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{code}', "
                f"MESSAGE = 'boom {code}', DETAIL = 'the detail', HINT = 'the hint'; END $$"
            )
        exc = info.value
        assert type(exc) is EXPECTED[code], code
        assert exc.sqlstate == code
        assert exc.message == f"boom {code}"
        assert exc.detail == "the detail"
        assert exc.hint == "the hint"
        assert isinstance(exc.__cause__, psycopg.Error)
        assert exc.__cause__.diag.sqlstate == code


def test_cast_errors_before_the_function_runs_are_invalid_input(
    client: Client, app_conn: psycopg.Connection[Any]
) -> None:
    session = client.session(b"\x00" * 48)
    # An invalid uuid string fails the caller's ::uuid cast (22P02) before any check.
    with pytest.raises(InvalidInput) as info:
        session.get_backup("not-a-uuid")
    assert info.value.sqlstate == "22P02"
    # Unparsable JSON text (22P02) and an integer overflow (22003) alike.
    for query in ("SELECT * FROM zkeb_api.register_user('\\x00', '\\x00', '\\x00', '{oops'::jsonb)",
                  "SELECT * FROM zkeb_api.sync_pull(NULL, 99999999999999999999::bigint)"):
        with pytest.raises(InvalidInput) as info, wrap_errors():
            app_conn.execute(query)
        assert info.value.sqlstate is not None and info.value.sqlstate.startswith("22")


def test_unknown_errors_pass_through_unchanged(app_conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), wrap_errors():
        app_conn.execute("SELECT * FROM zkeb.users")
    with pytest.raises(psycopg.errors.RaiseException), wrap_errors():
        app_conn.execute("DO $$ BEGIN RAISE EXCEPTION 'plain P0001'; END $$")
    with pytest.raises(ValueError), wrap_errors():
        raise ValueError("not a database error")


def test_every_zk_code_in_the_sql_is_registered(project_dir: Path) -> None:
    used: dict[str, set[str]] = {}
    for script in sorted((project_dir / "deploy").glob("*.sql")):
        for code in re.findall(r"\bZK\d{3}\b", script.read_text()):
            used.setdefault(code, set()).add(script.name)
    assert used, "no ZK code found in deploy/*.sql"
    unregistered = {code: files for code, files in used.items() if code not in REGISTRY}
    assert unregistered == {}


def test_sqlstates_are_not_in_plpgsql_class() -> None:
    # Class P0 belongs to PL/pgSQL (conventions.md 9); ours are class ZK.
    assert all(code.startswith("ZK") and len(code) == 5 for code in REGISTRY)
    assert errors.exception_class("P0001") is None
    assert errors.exception_class(None) is None
    assert errors.exception_class("22001") is InvalidInput
