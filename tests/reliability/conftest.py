"""Fixtures of the reliability suite (database fixtures come from tests/conftest.py).

``private_cluster``/``pdb``: a throwaway cluster of our own (see privatepg.py) for
the races (50+ connections) and the crash runs.

At the end of the session the figures the tests counted (``relkit.FIGURES``) are
written as JSON to ``$ZKEB_RELIABILITY_JSON``, else to
``$TMPDIR/zkeb-reliability/figures-<pid>.json``; ``report.py`` turns that file into
docs/reliability.md.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from privatepg import PrivateCluster, PrivateDb
from relkit import FIGURES, fast_commits


def figures_path() -> str:
    given = os.environ.get("ZKEB_RELIABILITY_JSON")
    if given:
        return given
    return os.path.join(tempfile.gettempdir(), "zkeb-reliability", f"figures-{os.getpid()}.json")


@pytest.fixture(scope="session", autouse=True)
def _reliability_figures(request: pytest.FixtureRequest, pg_server: str) -> Iterator[None]:
    started = time.time()
    slow = bool(request.config.getoption("--slow"))
    FIGURES.put("session", "slow", slow)
    FIGURES.put("session", "hypothesis_profile",
                request.config.getoption("hypothesis_profile", None) or ("slow" if slow else "ci"))
    with psycopg.connect(pg_server, connect_timeout=10) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    FIGURES.put("session", "server_version", f"PostgreSQL {row[0] if row else '?'}")
    yield
    FIGURES.put("session", "wall_seconds", round(time.time() - started, 1))
    FIGURES.dump(figures_path())


@pytest.fixture(autouse=True)
def _fast_commits(request: pytest.FixtureRequest) -> None:
    """Tests on a clone: its connections commit without waiting for the WAL flush."""
    if "db" in request.fixturenames:
        db = request.getfixturevalue("db")
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            fast_commits(conn, db.name)






@pytest.fixture(scope="session")
def private_cluster(project_dir: Path) -> Iterator[PrivateCluster]:
    """A throwaway cluster of our own (200 connections) with the plan deployed once."""
    with PrivateCluster(project_dir) as cluster:
        yield cluster


@pytest.fixture
def pdb(private_cluster: PrivateCluster) -> Iterator[PrivateDb]:
    """A clone in the private cluster, committing without waiting for the WAL flush."""
    database = private_cluster.clone()
    with psycopg.connect(database.dsn, autocommit=True) as conn:
        fast_commits(conn, database.name)
    try:
        yield database
    finally:
        private_cluster.drop(database)
