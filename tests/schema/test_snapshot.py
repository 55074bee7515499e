"""``sql/schema.sql`` is the schema a fresh deploy makes (regenerate it with
``zkeb-db schema-snapshot``), and its normalisation leaves no run- or
version-specific noise."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from zkeb_db import snapshot
from zkeb_db.cli import main


def _committed(project_dir: Path) -> str:
    path = project_dir / snapshot.SNAPSHOT_PATH
    if not path.is_file():
        pytest.fail(f"{path} is missing: run zkeb-db schema-snapshot", pytrace=False)
    return path.read_text(encoding="utf-8")


def test_schema_snapshot_is_not_stale(db: Any, project_dir: Path) -> None:
    committed = _committed(project_dir)
    recorded = snapshot.snapshot_major(committed)
    assert recorded is not None, "sql/schema.sql has no server major version header"
    with db.connect() as conn:
        major = snapshot.server_major(conn)
    if major != recorded:
        pytest.skip(f"sql/schema.sql was made with PostgreSQL {recorded}, the server is {major}: "
                    "pg_dump output differs between majors")
    fresh = snapshot.snapshot_of(db.dsn)  # the template is a fresh deploy; db is its clone
    assert fresh == committed, (
        "sql/schema.sql is stale: run zkeb-db schema-snapshot\n" + snapshot.diff(committed, fresh))


def test_snapshot_has_no_run_specific_noise(db: Any, project_dir: Path) -> None:
    raw = snapshot.dump_schema(db.dsn)
    assert "\\restrict" in raw or "Dumped by pg_dump version" in raw  # what gets normalised
    text = snapshot.snapshot_of(db.dsn)
    assert text == snapshot.snapshot_of(db.dsn)
    for noise in ("\\restrict", "\\unrestrict", "Dumped from database version",
                  "Dumped by pg_dump version", "SET statement_timeout", "set_config('search_path'",
                  "\n\n\n", "CREATE SCHEMA sqitch", "sqitch.changes"):
        assert noise not in text, noise
    assert "CREATE POLICY users_select_own ON zkeb.users" in text
    assert "ALTER TABLE ONLY zkeb.users FORCE ROW LEVEL SECURITY;" in text
    assert snapshot.snapshot_major(text) == snapshot.snapshot_major(_committed(project_dir))


@pytest.mark.slow
def test_check_mode_reports_a_stale_file(pg_server: str, db: Any, project_dir: Path,
                                         tmp_path: Path) -> None:
    """``schema-snapshot --check`` (a full deploy) exits 1 with the diff on a stale file."""
    stale = tmp_path / "schema.sql"
    fresh = snapshot.snapshot_of(db.dsn)
    stale.write_text(fresh.replace("FORCE ROW LEVEL SECURITY", "ENABLE ROW LEVEL SECURITY", 1))
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(["schema-snapshot", "--check", "--db", pg_server, "--chdir", str(project_dir),
                   "--output", str(stale)])
    assert rc == 1, (out.getvalue(), err.getvalue())
    assert "-ALTER TABLE ONLY" in out.getvalue() and "ENABLE ROW LEVEL SECURITY" in out.getvalue()
    assert "is stale" in err.getvalue()
