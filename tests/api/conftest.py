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
def tenant(client: Client) -> Callable[..., Tenant]:
    """``tenant(name, device=True, key_algorithm='ed25519')``: register, log in, add a device."""

    def make(name: str, **kwargs: Any) -> Tenant:
        return new_tenant(client, name, **kwargs)

    return make
