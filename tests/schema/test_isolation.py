"""Tenancy holds in the database itself.

Two users with devices, backups, recovery shares, sync metadata, audit events
and live sessions (made through the API, as the application would). Then:

- a connection as the application role (``zkeb_test_app``, member of
  ``zkeb_app``) can read or change no table directly, whatever it tries;
- a forged, empty, NULL or malformed token gets ZK401 from the API, also
  when the backend carries a hand-set tenant context;
- under the owner (what every API function runs as), the forced policies
  show each token exactly its own rows, and a forged or empty token nothing.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb

TABLES = (
    "zkeb.users", "zkeb.devices", "zkeb.sessions", "zkeb.encrypted_backups",
    "zkeb.recovery_shares", "zkeb.sync_metadata", "zkeb.audit_logs", "zkeb_private.settings",
)
TENANT_TABLES = (
    "zkeb.users", "zkeb.devices", "zkeb.sessions", "zkeb.encrypted_backups",
    "zkeb.recovery_shares", "zkeb.sync_metadata",
)


@dataclass(frozen=True)
class Tenant:
    user_id: uuid.UUID
    token: bytes
    device_id: uuid.UUID
    backup_id: uuid.UUID


def _make_tenant(app: psycopg.Connection[Any], name: str) -> Tenant:
    username_hash = hashlib.sha256(f"user:{name}".encode()).digest()
    auth_key = hashlib.sha256(f"key:{name}".encode()).digest()
    salt = os.urandom(32)
    app.execute("SELECT zkeb_api.register_user(%s, %s, %s, %s)",
                [username_hash, salt, auth_key, Jsonb({"alg": "argon2id"})])
    row = app.execute("SELECT status, session_token, user_id FROM zkeb_api.login(%s, %s)",
                      [username_hash, auth_key]).fetchone()
    assert row is not None and row[0] == "ok", row
    token, user_id = bytes(row[1]), row[2]
    device = app.execute(
        "SELECT zkeb_api.register_device(%s, %s, %s, 'ed25519')",
        [token, os.urandom(32), os.urandom(32)]).fetchone()
    assert device is not None
    device_id: uuid.UUID = device[0]
    backup_id = uuid.uuid4()
    app.execute(
        "SELECT * FROM zkeb_api.create_backup(%s, %s, %s, %s, %s, %s, %s, %s)",
        [token, backup_id, device_id, os.urandom(32), b"ciphertext of " + name.encode(),
         os.urandom(12), os.urandom(16), os.urandom(64)])
    app.execute(
        "SELECT zkeb_api.store_recovery_shares(%s, 2, %s, %s, %s)",
        [token, [os.urandom(32), os.urandom(32)], [1, 2], [b"share-1", b"share-2"]])
    app.execute(
        "SELECT * FROM zkeb_api.sync_push(%s, %s, %s, %s, 1)",
        [token, os.urandom(32), device_id, Jsonb({str(device_id): 1})])
    return Tenant(user_id, token, device_id, backup_id)


@pytest.fixture(scope="module")
def tenants(module_clone: str) -> tuple[Tenant, Tenant]:
    app_dsn = make_conninfo(module_clone, user="zkeb_test_app")
    with psycopg.connect(app_dsn, autocommit=True) as app:
        return _make_tenant(app, "alice"), _make_tenant(app, "bob")


@pytest.fixture
def app(module_clone: str, tenants: Any) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(make_conninfo(module_clone, user="zkeb_test_app"),
                         autocommit=True) as conn:
        yield conn


@pytest.fixture
def owner(module_clone: str, tenants: Any) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection that acts as zkeb_owner inside each transaction."""
    with psycopg.connect(module_clone, autocommit=False) as conn:
        yield conn
        conn.rollback()


def _refused(conn: psycopg.Connection[Any], statement: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute(statement)


def test_fixture_made_two_tenants_with_data(module_clone: str,
                                            tenants: tuple[Tenant, Tenant]) -> None:
    with psycopg.connect(module_clone) as su:
        for table in TENANT_TABLES:
            n = su.execute(f"SELECT count(DISTINCT user_id) FROM {table}").fetchone()
            assert n == (2,), table
        chains = su.execute("SELECT count(DISTINCT user_hash) FROM zkeb.audit_logs").fetchone()
        assert chains is not None and chains[0] >= 2


@pytest.mark.parametrize("table", TABLES)
def test_app_cannot_touch_any_table(app: psycopg.Connection[Any], table: str,
                                    tenants: tuple[Tenant, Tenant]) -> None:
    alice = tenants[0]
    _refused(app, f"SELECT * FROM {table}")
    _refused(app, f"SELECT count(*) FROM {table}")
    _refused(app, f"INSERT INTO {table} DEFAULT VALUES")
    _refused(app, f"UPDATE {table} SET {'id' if 'settings' in table else 'user_id'} = NULL")
    _refused(app, f"DELETE FROM {table}")
    _refused(app, f"TRUNCATE {table}")
    with pytest.raises(errors.InsufficientPrivilege), app.transaction():
        app.execute(f"LOCK TABLE {table}")
    with pytest.raises(errors.InsufficientPrivilege), app.cursor() as cur, \
            cur.copy(f"COPY {table} TO STDOUT") as copy:
        list(copy)
    with pytest.raises(errors.InsufficientPrivilege), app.cursor() as cur, \
            cur.copy(f"COPY {table} FROM STDIN") as copy:
        copy.write(b"")
    # Switching row security off does not open anything either.
    app.execute("SET row_security = off")
    _refused(app, f"SELECT * FROM {table}")
    app.execute("RESET row_security")
    # Nor does a hand-set tenant context.
    app.execute("SELECT set_config('zkeb.session_token', %s, false)", [alice.token.hex()])
    _refused(app, f"SELECT * FROM {table}")


def test_app_cannot_become_anyone_or_create_anything(app: psycopg.Connection[Any]) -> None:
    for statement in (
        "SET ROLE zkeb_owner",
        "SET ROLE zkeb_maintainer",
        "SET SESSION AUTHORIZATION zkeb_owner",
        "CREATE TEMP TABLE t (x int)",
        "CREATE TABLE public.t (x int)",
        "CREATE SCHEMA sneaky",
        "CREATE FUNCTION zkeb_api.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "SELECT zkeb_private.current_user_id()",
        "SELECT zkeb_private.begin_maintenance()",
        "SELECT * FROM zkeb_maint.check_invariants()",
        "ALTER ROLE zkeb_test_app SET zkeb.session_token = 'x'",
    ):
        _refused(app, statement)
    assert app.execute("SELECT current_user, session_user").fetchone() == (
        "zkeb_test_app", "zkeb_test_app")


def _forged_tokens(alice: Tenant) -> dict[str, bytes | None]:
    return {
        "alice_id_wrong_secret": alice.user_id.bytes + os.urandom(32),
        "unknown_user": uuid.uuid4().bytes + os.urandom(32),
        "alice_token_truncated": alice.token[:47],
        "alice_token_extended": alice.token + b"\x00",
        "empty": b"",
        "null": None,
        "hex_text_of_alice_token": alice.token.hex().encode(),
    }


def test_forged_or_empty_tokens_get_nothing(app: psycopg.Connection[Any],
                                            tenants: tuple[Tenant, Tenant]) -> None:
    alice, _ = tenants
    # A context left on the backend by hand must not help any call.
    app.execute("SELECT set_config('zkeb.session_token', %s, false)", [alice.token.hex()])
    for name, token in _forged_tokens(alice).items():
        for query in ("SELECT * FROM zkeb_api.whoami(%s)",
                      "SELECT * FROM zkeb_api.list_backups(%s)",
                      "SELECT * FROM zkeb_api.list_devices(%s)",
                      "SELECT * FROM zkeb_api.list_recovery_shares(%s)",
                      "SELECT * FROM zkeb_api.sync_pull(%s)",
                      "SELECT * FROM zkeb_api.list_audit_events(%s)"):
            with pytest.raises(psycopg.Error) as info:
                app.execute(query, [token])
            assert info.value.sqlstate == "ZK401", (name, query, info.value)
        with pytest.raises(psycopg.Error) as info:
            app.execute("SELECT * FROM zkeb_api.get_backup(%s, %s)", [token, alice.backup_id])
        assert info.value.sqlstate == "ZK401", name


def test_each_token_sees_only_its_own_tenant(app: psycopg.Connection[Any],
                                             tenants: tuple[Tenant, Tenant]) -> None:
    alice, bob = tenants
    for me, other in ((alice, bob), (bob, alice)):
        who = app.execute("SELECT user_id FROM zkeb_api.whoami(%s)", [me.token]).fetchone()
        assert who == (me.user_id,)
        ids = {r[0] for r in app.execute("SELECT backup_id FROM zkeb_api.list_backups(%s)",
                                         [me.token])}
        assert ids == {me.backup_id}
        # another tenant's backup id looks exactly like a missing one
        with pytest.raises(psycopg.Error) as info:
            app.execute("SELECT * FROM zkeb_api.get_backup(%s, %s)", [me.token, other.backup_id])
        assert info.value.sqlstate == "ZK404"


def _visible(owner: psycopg.Connection[Any], context: str | None) -> dict[str, set[Any]]:
    """The user ids each tenant table shows to zkeb_owner under a session context."""
    seen: dict[str, set[Any]] = {}
    with owner.transaction(force_rollback=True):
        owner.execute("SET LOCAL ROLE zkeb_owner")
        if context is not None:
            owner.execute("SELECT set_config('zkeb.session_token', %s, true)", [context])
        for table in TENANT_TABLES:
            seen[table] = {r[0] for r in owner.execute(
                sql.SQL("SELECT DISTINCT user_id FROM {}").format(sql.SQL(table)))}
        seen["zkeb.audit_logs"] = {r[0] for r in owner.execute(
            "SELECT DISTINCT user_hash FROM zkeb.audit_logs")}
    return seen


def test_forced_policies_show_each_token_its_own_rows(owner: psycopg.Connection[Any],
                                                      tenants: tuple[Tenant, Tenant]) -> None:
    alice, bob = tenants
    for me, other in ((alice, bob), (bob, alice)):
        seen = _visible(owner, me.token.hex())
        for table in TENANT_TABLES:
            assert seen[table] == {me.user_id}, table
        assert len(seen["zkeb.audit_logs"]) == 1  # its own chain, nobody else's
        assert other.user_id not in set().union(*seen.values())


def test_forced_policies_show_a_forged_or_empty_token_nothing(
        owner: psycopg.Connection[Any], tenants: tuple[Tenant, Tenant]) -> None:
    alice, bob = tenants
    contexts: dict[str, str | None] = {
        "no context": None,
        "empty": "",
        "garbage": "not a token",
        "unknown user": (uuid.uuid4().bytes + os.urandom(32)).hex(),
        "alice id, wrong secret": (alice.user_id.bytes + os.urandom(32)).hex(),
        "alice token, upper case hex": alice.token.hex().upper(),
    }
    for name, context in contexts.items():
        seen = _visible(owner, context)
        for table, ids in seen.items():
            if table == "zkeb.sessions" and name == "alice id, wrong secret":
                # The session check itself reads the claimed user's session rows
                # (the sessions_select_claimed branch), then compares the hash;
                # no API function returns them. Never another user's rows.
                assert ids <= {alice.user_id}, (name, table)
                continue
            assert ids == set(), (name, table)
    assert bob.user_id != alice.user_id
