"""The schema snapshot ``sql/schema.sql`` (``zkeb-db schema-snapshot``).

The snapshot is ``pg_dump --schema-only`` of a fresh deploy, without the
Sqitch registry, normalised so that two dumps of the same schema are equal
byte for byte whatever the run: the ``\\restrict`` keys (random per run), the
version banner and the session ``SET`` preamble (which changes between
pg_dump releases) are removed and blank lines collapsed.  pg_dump's own order
is kept: it sorts objects by kind and name within dependency order, which is
stable for one schema and is the order a reader wants.

Its first lines say what it is and record the server's major version; a dump
made by another major version may print the same schema differently, so
comparisons (``--check``, the test) only make sense between equal majors.
"""

from __future__ import annotations

import difflib
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

__all__ = [
    "EXCLUDED_SCHEMAS",
    "SNAPSHOT_PATH",
    "SnapshotError",
    "deploy",
    "diff",
    "dump_schema",
    "find_pg_dump",
    "fresh_snapshot",
    "normalise",
    "server_major",
    "snapshot_major",
    "snapshot_of",
]

SNAPSHOT_PATH = Path("sql") / "schema.sql"
"""Where the snapshot lives, relative to the project directory."""

EXCLUDED_SCHEMAS: tuple[str, ...] = ("sqitch",)
"""Left out of the dump: the deployment registry is not the schema."""

_MAJOR_LINE = "-- server major version: "
_HEADER = (
    "-- zkeb-db schema snapshot: normalised `pg_dump --schema-only` of a fresh deploy of\n"
    "-- sqitch.plan, without the sqitch registry. Generated; do not edit.\n"
    "-- Regenerate: zkeb-db schema-snapshot    Compare: zkeb-db schema-snapshot --check\n"
)

_NOISE = (
    re.compile(r"^\\(un)?restrict\b.*$"),
    re.compile(r"^-- Dumped (from database|by pg_dump) version .*$"),
    re.compile(r"^SET [a-z_]+ = .*;$"),
    re.compile(r"^SELECT pg_catalog\.set_config\('search_path', '', false\);$"),
)


class SnapshotError(Exception):
    """The snapshot could not be made (no pg_dump, deploy failed, ...)."""


def server_major(conn: psycopg.Connection[Any]) -> int:
    """The major version of the server behind ``conn`` (15 for 15.x)."""
    return int(conn.info.server_version) // 10000


def find_pg_dump(major: int) -> str:
    """A ``pg_dump`` able to dump a server of this major version.

    The one of the same major (Debian layout, then ``pg_config --bindir``),
    else the one on ``PATH`` when it is at least as new as the server.
    """
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin/pg_dump")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        proc = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                              check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            candidates.append(Path(proc.stdout.strip()) / "pg_dump")
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path))
    found: list[tuple[Path, int | None]] = []
    for path in dict.fromkeys(candidates):
        if path.is_file() and os.access(path, os.X_OK):
            found.append((path, _pg_dump_major(path)))
    for path, version in found:
        if version == major:
            return str(path)
    for path, version in found:
        if version is not None and version > major:
            return str(path)
    seen = [f"{path} ({version})" for path, version in found]
    raise SnapshotError(
        f"no pg_dump for PostgreSQL {major} found"
        + (f" (found: {', '.join(seen)})" if seen else "")
    )


def _pg_dump_major(path: Path) -> int | None:
    proc = subprocess.run([str(path), "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+)(?:\.\d+)?", proc.stdout)
    return int(match.group(1)) if match else None


def dump_schema(dsn: str, *, pg_dump: str | None = None) -> str:
    """Raw ``pg_dump --schema-only`` of the database ``dsn``, registry excluded."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        major = server_major(conn)
    cmd = [pg_dump or find_pg_dump(major), "--schema-only", "--no-password"]
    cmd += [f"--exclude-schema={schema}" for schema in EXCLUDED_SCHEMAS]
    cmd += ["--dbname", dsn]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SnapshotError(f"pg_dump failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def normalise(dump: str) -> str:
    """Drop the run- and version-specific lines of a dump, collapse blank lines."""
    out: list[str] = []
    for raw in dump.splitlines():
        line = raw.rstrip()
        if any(p.match(line) for p in _NOISE):
            continue
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def snapshot_of(dsn: str, *, pg_dump: str | None = None) -> str:
    """The snapshot text (header + normalised dump) of the database ``dsn``."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        major = server_major(conn)
    body = normalise(dump_schema(dsn, pg_dump=pg_dump))
    return f"{_HEADER}{_MAJOR_LINE}{major}\n\n{body}"


def snapshot_major(text: str) -> int | None:
    """The server major version recorded in a snapshot's header, or None."""
    for line in text.splitlines()[:10]:
        if line.startswith(_MAJOR_LINE):
            value = line[len(_MAJOR_LINE):].strip()
            return int(value) if value.isdigit() else None
    return None


def diff(old: str, new: str, *, old_name: str = "sql/schema.sql",
         new_name: str = "fresh deploy", limit: int = 200) -> str:
    """A unified diff of two snapshots, cut after ``limit`` lines."""
    lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name,
                                      lineterm=""))
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return "\n".join(lines)


def deploy(project: Path, dsn: str, *, deployer: str = "auto") -> str:
    """Deploy ``project``'s plan into ``dsn``; returns the deployer used.

    ``deployer`` is ``zkeb-db`` (the package's Sqitch-compatible deployer),
    ``sqitch`` (real Sqitch through the libpq variables) or ``auto`` (the
    package's deployer when it is available, else Sqitch).
    """
    if deployer in ("auto", "zkeb-db"):
        try:
            from zkeb_db.sqitch import deploy_project  # type: ignore[attr-defined,unused-ignore]
        except ImportError:
            if deployer == "zkeb-db":
                raise SnapshotError(
                    "the zkeb-db deployer (zkeb_db.sqitch) is not available") from None
        else:
            try:
                deploy_project(project, dsn)
            except Exception as exc:
                raise SnapshotError(f"deploy failed: {exc}") from exc
            return "zkeb-db"
    sqitch_bin = shutil.which("sqitch")
    if sqitch_bin is None:
        raise SnapshotError("no deployer: zkeb_db.sqitch is not available and sqitch is not "
                            "installed")
    env = dict(os.environ)
    params = conninfo_to_dict(dsn)
    for key, var in (("host", "PGHOST"), ("hostaddr", "PGHOSTADDR"), ("port", "PGPORT"),
                     ("user", "PGUSER"), ("password", "PGPASSWORD"), ("dbname", "PGDATABASE"),
                     ("sslmode", "PGSSLMODE")):
        env.pop(var, None)
        if params.get(key) is not None:
            env[var] = str(params[key])
    proc = subprocess.run([sqitch_bin, "--chdir", str(project), "deploy", "db:pg:"], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SnapshotError(
            f"sqitch deploy failed (exit {proc.returncode}): "
            f"{(proc.stderr or proc.stdout).strip()}"
        )
    return "sqitch"


@contextmanager
def scratch_database(server_dsn: str, prefix: str = "zkeb_snapshot_") -> Iterator[str]:
    """A new empty database (from template0) on the server of ``server_dsn``, dropped after."""
    name = f"{prefix}{os.getpid()}_{secrets.token_hex(4)}"
    ident = sql.Identifier(name)
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(ident))
    try:
        yield make_conninfo(server_dsn, dbname=name)
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


def fresh_snapshot(server_dsn: str, project: Path, *, deployer: str = "auto") -> str:
    """Deploy ``project`` into a scratch database on that server and snapshot it."""
    with scratch_database(server_dsn) as dsn:
        deploy(project, dsn, deployer=deployer)
        return snapshot_of(dsn)
