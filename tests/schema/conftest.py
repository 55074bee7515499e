"""Fixtures of the schema tests (on top of tests/conftest.py).

``module_clone`` (module)
    A clone of the deployed template shared by one test module, for tests
    that roll back what they do (or only read). A clone per test (``db``)
    costs a ``CREATE DATABASE`` and a ``DROP DATABASE``; the planting tests
    run dozens of rolled-back transactions in one clone instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo


@pytest.fixture(scope="module")
def module_clone(pg_server: str, template_db: Any) -> Iterator[str]:
    """Superuser conninfo of a clone of the template, dropped after the module."""
    # Same shape as the shared fixtures' names (zkeb_test_<pid>_<n>), so a clone
    # left by a killed session is swept by the next one; n far above their counter.
    name = f"zkeb_test_{os.getpid()}_{900_000_000 + secrets.randbelow(99_999_999)}"
    ident = sql.Identifier(name)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            ident, sql.Identifier(template_db.name)))
        # CREATE DATABASE copies no database privilege: re-apply the deploy's.
        conn.execute(sql.SQL("REVOKE TEMPORARY, CREATE ON DATABASE {} FROM PUBLIC").format(ident))
    try:
        yield make_conninfo(pg_server, dbname=name)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
