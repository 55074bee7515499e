"""Fixtures for the Sqitch-compatible deployer tests.

``admin_dsn``: superuser conninfo, from the shared ``pg_server`` fixture when
it exists, else ``$ZKEB_TEST_DSN``, else ``host=127.0.0.1 user=postgres
dbname=postgres``. ``scratch_db()`` creates databases named ``zkeb_sq_*`` and
drops them after the test. ``interop_project`` is a private copy of
tests/fixtures/interop (tests may edit its scripts). ``sq_env`` pins the
committer identity and hides personal sqitch.conf files for both tools.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from zkeb_sqitch_testkit import COMMITTER, INTEROP, ScratchDB


@pytest.fixture(scope="session")
def admin_dsn(request: pytest.FixtureRequest) -> str:
    try:
        return str(request.getfixturevalue("pg_server"))
    except pytest.FixtureLookupError:
        return os.environ.get("ZKEB_TEST_DSN") or "host=127.0.0.1 user=postgres dbname=postgres"


def _pg_env(conninfo: str) -> dict[str, str]:
    params = conninfo_to_dict(conninfo)
    env: dict[str, str] = {}
    for key, var in (("host", "PGHOST"), ("hostaddr", "PGHOSTADDR"), ("port", "PGPORT"),
                     ("user", "PGUSER"), ("password", "PGPASSWORD"), ("sslmode", "PGSSLMODE")):
        if params.get(key) is not None:
            env[var] = str(params[key])
    return env


@pytest.fixture
def sq_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, admin_dsn: str) -> dict[str, str]:
    """Environment for both deployers: fixed committer, no personal config, server in PG*."""
    for var in ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE",
                "PGSSLMODE", "ZKEB_DB_URI", "SQITCH_TARGET", "SQITCH_CONFIG", "SQITCH_USERNAME",
                "SQITCH_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    values = {
        "SQITCH_FULLNAME": COMMITTER[0],
        "SQITCH_EMAIL": COMMITTER[1],
        "SQITCH_USER_CONFIG": str(tmp_path / "no-user-sqitch.conf"),
        "SQITCH_SYSTEM_CONFIG": str(tmp_path / "no-system-sqitch.conf"),
        "SQITCH_PAGER": "cat",
        "TZ": "UTC",
        **_pg_env(admin_dsn),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return dict(os.environ)


@pytest.fixture(scope="session")
def _sq_drops(admin_dsn: str) -> Iterator[list[threading.Thread]]:
    """Scratch databases are dropped in the background (DROP DATABASE waits for a
    checkpoint); the session waits for the last drops at its end."""
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join(timeout=600)


def _drop(admin_dsn: str, names: list[str]) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@pytest.fixture
def scratch_db(
    admin_dsn: str, sq_env: dict[str, str], _sq_drops: list[threading.Thread]
) -> Iterator[Callable[[], ScratchDB]]:
    made: list[str] = []

    def make() -> ScratchDB:
        name = f"zkeb_sq_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        return ScratchDB(name=name, conninfo=make_conninfo(admin_dsn, dbname=name), env=sq_env)

    yield make
    if made:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            for name in made:  # unusable at once; dropped in the background
                conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(
                    sql.Identifier(name)))
                conn.execute("SELECT pg_catalog.pg_terminate_backend(pid)"
                             " FROM pg_catalog.pg_stat_activity WHERE datname = %s", [name])
        thread = threading.Thread(target=_drop, args=(admin_dsn, list(made)), daemon=True)
        thread.start()
        _sq_drops.append(thread)


@pytest.fixture
def interop_project(tmp_path: Path) -> Path:
    dest = tmp_path / "interop"
    shutil.copytree(INTEROP, dest)
    return dest


