"""Connections of the maintenance tests (the database fixtures come from tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest


@pytest.fixture
def su(db: Any) -> psycopg.Connection[Any]:
    """Superuser (bypasses RLS): plants data and tampers with it."""
    conn: psycopg.Connection[Any] = db.connect("super")
    return conn


@pytest.fixture
def maint(db: Any) -> psycopg.Connection[Any]:
    """Autocommit connection as a member of zkeb_maintainer."""
    conn: psycopg.Connection[Any] = db.connect("maint")
    return conn


@pytest.fixture
def auditor(db: Any) -> psycopg.Connection[Any]:
    """Autocommit connection as a member of zkeb_auditor."""
    conn: psycopg.Connection[Any] = db.connect("auditor")
    return conn


@pytest.fixture
def app(db: Any) -> psycopg.Connection[Any]:
    """Autocommit connection as a member of zkeb_app."""
    conn: psycopg.Connection[Any] = db.connect("app")
    return conn
