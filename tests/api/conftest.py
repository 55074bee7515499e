"""Fixtures of the API tests (the database fixtures come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from zkeb_api_testkit import Tenant, new_tenant, storage_drift

from zkeb_db.client import Client


@pytest.fixture(autouse=True)
def _storage_invariant(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test on a database: storage_used_bytes == sum of stored sizes, per user."""
    if "db" not in request.fixturenames:
        yield
        return
    db = request.getfixturevalue("db")
    yield
    with psycopg.connect(db.dsn, autocommit=True) as su:
        assert storage_drift(su) == [], "storage_used_bytes differs from the stored sizes"


@pytest.fixture
def su(db: Any) -> psycopg.Connection[Any]:
    """Superuser connection (bypasses RLS): for checks and for setting up states."""
    conn: psycopg.Connection[Any] = db.connect("super")
    return conn


@pytest.fixture
def app_conn(db: Any) -> psycopg.Connection[Any]:
    """Autocommit connection as the application login role (member of zkeb_app)."""
    conn: psycopg.Connection[Any] = db.connect("app")
    return conn


@pytest.fixture
def client(app_conn: psycopg.Connection[Any]) -> Client:
    return Client(app_conn)


@pytest.fixture
def tenant(client: Client) -> Callable[..., Tenant]:
    """``tenant(name, device=True, key_algorithm='ed25519')``: register, log in, add a device."""

    def make(name: str, **kwargs: Any) -> Tenant:
        return new_tenant(client, name, **kwargs)

    return make
