"""The Python client: connections, pools, caller transactions, prepared statements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool
from zkeb_api_testkit import KDF, Tenant, h, new_tenant

from zkeb_db.client import Client, Session
from zkeb_db.errors import NotFound, RateLimited, Unauthenticated


def test_connect_owns_an_autocommit_connection(db: Any) -> None:
    with Client.connect(db.dsn_for("app")) as client:
        alice = new_tenant(client, "alice")
        alice.create()
        assert isinstance(client._source, psycopg.Connection) and client._source.autocommit
        conn = client._source
    assert conn.closed


def test_a_given_connection_is_left_open(db: Any, app_conn: psycopg.Connection[Any]) -> None:
    with Client(app_conn) as client:
        new_tenant(client, "alice", device=False)
    assert not app_conn.closed


def test_pool(db: Any) -> None:
    with ConnectionPool(db.dsn_for("app"), min_size=1, max_size=3, open=True) as pool:
        client = Client(pool)
        alice = new_tenant(client, "alice")
        args = alice.create()
        assert alice.session.get_backup(args["backup_id"]).ciphertext == args["ciphertext"]
        with pytest.raises(NotFound):
            alice.session.get_backup(h("x")[:16].hex())
        # The pool's connections come back idle after every call and after errors.
        with pool.connection() as conn:
            assert conn.info.transaction_status == TransactionStatus.IDLE
        with client.transaction() as tx:
            tx.session(alice.token).delete_backup(args["backup_id"])
            raise psycopg.Rollback()
        assert len(alice.session.list_backups()) == 1


def test_idle_non_autocommit_connection_commits_each_call(db: Any) -> None:
    conn = db.connect("app", autocommit=False)
    client = Client(conn)
    alice = new_tenant(client, "alice")
    assert conn.info.transaction_status == TransactionStatus.IDLE
    # Visible from another connection: it was committed.
    other = Client(db.connect("app"))
    assert other.session(alice.token).whoami().user_id == alice.user_id


def test_a_call_joins_the_callers_transaction(db: Any, tenant: Callable[..., Tenant]) -> None:
    alice = tenant("alice")
    conn = db.connect("app", autocommit=False)
    client = Client(conn)
    session = client.session(alice.token)
    with conn.transaction():
        args = alice.backup(size=10)
        session.create_backup(**args)
        assert conn.info.transaction_status == TransactionStatus.INTRANS
        assert session.whoami().storage_used_bytes == 10
        raise psycopg.Rollback()
    # Rolled back with the caller's transaction: nothing stored, nothing charged.
    assert alice.session.whoami().storage_used_bytes == 0
    with pytest.raises(NotFound):
        alice.session.get_backup(args["backup_id"])
    # An implicit transaction (non-autocommit, after a statement) is joined too.
    conn.execute("SELECT 1")
    session.create_backup(**alice.backup(size=5))
    assert conn.info.transaction_status == TransactionStatus.INTRANS
    assert alice.session.whoami().storage_used_bytes == 0
    conn.commit()
    assert alice.session.whoami().storage_used_bytes == 5


def test_client_transaction_commits_several_calls_at_once(tenant: Callable[..., Tenant],
                                                          client: Client) -> None:
    alice = tenant("alice")
    with alice.session.transaction() as tx:
        first = tx.create_backup(**alice.backup(size=1))
        second = tx.create_backup(**alice.backup(size=1))
        assert first.created_at == second.created_at  # one transaction, one now()
    assert alice.session.storage_usage().backup_count == 2


@pytest.mark.parametrize("threshold", [None, 0, 5])
def test_prepare_threshold(db: Any, threshold: int | None) -> None:
    conn = db.connect("app")
    client = Client(conn, prepare_threshold=threshold)
    alice = new_tenant(client, "alice")
    for _ in range(8):
        alice.session.whoami()
    prepared = conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_prepared_statements WHERE statement LIKE %s",
        ["%zkeb_api.whoami%"]).fetchone()
    assert prepared is not None
    if threshold is None:
        assert prepared[0] == 0
    else:
        assert prepared[0] == 1
        assert conn.prepare_threshold == threshold


def test_login_errors_and_raw_status(client: Client, su: psycopg.Connection[Any]) -> None:
    client.register_user(h("u"), h("s"), h("k"), KDF)
    with pytest.raises(Unauthenticated) as denied:
        client.login(h("u"), h("wrong"))
    assert denied.value.sqlstate == "ZK401"
    assert client.login_status(h("u"), h("wrong")).status == "denied"
    su.execute("UPDATE zkeb.users SET locked_until = now() + interval '5 minutes'")
    with pytest.raises(RateLimited) as locked:
        client.login(h("u"), h("k"))
    assert locked.value.sqlstate == "ZK429"
    assert locked.value.retry_after is not None
    assert client.login_status(h("u"), h("k")).status == "locked"


def test_tokens_are_never_printed(client: Client) -> None:
    client.register_user(h("u"), h("s"), h("k"), KDF)
    result = client.login_status(h("u"), h("k"))
    session = client.login(h("u"), h("k"))
    assert result.session_token is not None
    for obj in (result, session):
        text = repr(obj)
        assert result.session_token.hex() not in text and repr(result.session_token) not in text
        assert session.session_token.hex() not in text
        assert repr(session.session_token) not in text
    assert isinstance(session, Session)
