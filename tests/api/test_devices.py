"""register_device, revoke_device, list_devices."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from zkeb_api_testkit import Background, Tenant, h, snapshot, wait_until_blocked

from zkeb_db.client import Client
from zkeb_db.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated


def test_register_and_list_devices(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice", device=False)
    ed_key, rsa_key = os.urandom(32), os.urandom(550)
    ed = alice.session.register_device(h("phone"), ed_key, "ed25519")
    rsa = alice.session.register_device(h("laptop"), rsa_key, "rsa-4096")
    devices = alice.session.list_devices()
    assert [(d.device_id, d.device_id_hash, d.key_algorithm, d.public_key, d.revoked_at)
            for d in devices] == [(ed, h("phone"), "ed25519", ed_key, None),
                                  (rsa, h("laptop"), "rsa-4096", rsa_key, None)]
    assert devices[0].created_at <= devices[1].created_at
    actions = su.execute(
        "SELECT action, metadata->>'device_id' FROM zkeb.audit_logs "
        "WHERE user_hash = zkeb_private.audit_user_hash(%s) AND action = 'device_register' "
        "ORDER BY event_id", [alice.user_id]).fetchall()
    assert actions == [("device_register", str(ed)), ("device_register", str(rsa))]


def test_registering_the_same_device_again(tenant: Callable[..., Tenant],
                                           su: psycopg.Connection[Any]) -> None:
    alice = tenant("alice", device=False)
    key = os.urandom(32)
    first = alice.session.register_device(h("phone"), key, "ed25519")
    before = snapshot(su)
    # A retry with the same hash and key answers with the same device, writes nothing.
    assert alice.session.register_device(h("phone"), key, "ed25519") == first
    assert snapshot(su) == before
    with pytest.raises(Conflict):
        alice.session.register_device(h("phone"), os.urandom(32), "ed25519")
    alice.session.revoke_device(first)
    with pytest.raises(Conflict):
        alice.session.register_device(h("phone"), key, "ed25519")
    # The same hash is fine for another tenant (keys are per user).
    bob = tenant("bob", device=False)
    assert bob.session.register_device(h("phone"), key, "ed25519") != first


def test_register_device_rejects_bad_input(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice", device=False)
    cases: list[tuple[Any, Any, Any]] = [
        (None, b"k" * 32, "ed25519"), (b"x" * 31, b"k" * 32, "ed25519"),
        (h("d"), None, "ed25519"), (h("d"), b"k" * 31, "ed25519"), (h("d"), b"k" * 550, "ed25519"),
        (h("d"), b"k" * 32, "rsa-4096"), (h("d"), b"k" * 549, "rsa-4096"),
        (h("d"), b"k" * 32, None), (h("d"), b"k" * 32, "ED25519"), (h("d"), b"k" * 32, "rsa"),
    ]
    before = snapshot(su)
    for device_id_hash, public_key, key_algorithm in cases:
        with pytest.raises(InvalidInput):
            alice.session.register_device(device_id_hash, public_key, key_algorithm)
        assert snapshot(su) == before, (device_id_hash, public_key, key_algorithm)


def test_revoke_device_ends_its_sessions_at_once(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    assert alice.device_id is not None
    on_device = client.login(alice.username_hash, alice.auth_key, device_id=alice.device_id)
    on_device_2 = client.login(alice.username_hash, alice.auth_key, device_id=alice.device_id)
    other_device = alice.session.register_device(h("tablet"), os.urandom(32), "ed25519")
    on_other = client.login(alice.username_hash, alice.auth_key, device_id=other_device)

    alice.session.revoke_device(alice.device_id)

    for session in (on_device, on_device_2):
        with pytest.raises(Unauthenticated):
            session.whoami()
    assert on_other.whoami().user_id == alice.user_id
    assert alice.session.whoami().user_id == alice.user_id
    revoked = {d.device_id: d.revoked_at for d in alice.session.list_devices()}
    assert revoked[alice.device_id] is not None and revoked[other_device] is None
    # It can sign nothing more, and revoking it again is a no-op.
    with pytest.raises(Forbidden):
        alice.session.create_backup(**alice.backup())
    before = snapshot(su)
    alice.session.revoke_device(alice.device_id)
    assert snapshot(su) == before
    still_valid = su.execute(
        "SELECT count(*) FROM zkeb.sessions WHERE user_id = %s AND device_id = %s "
        "AND revoked_at IS NULL AND expires_at > now()", [alice.user_id, alice.device_id]
    ).fetchone()
    assert still_valid == (0,)


def test_revoking_the_callers_own_device_ends_the_callers_session(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    assert alice.device_id is not None
    own = client.login(alice.username_hash, alice.auth_key, device_id=alice.device_id)
    own.revoke_device(alice.device_id)  # audited before the session ends
    with pytest.raises(Unauthenticated):
        own.whoami()
    last = su.execute(
        "SELECT action, metadata->>'device_id' FROM zkeb.audit_logs "
        "WHERE user_hash = zkeb_private.audit_user_hash(%s) ORDER BY event_id DESC LIMIT 1",
        [alice.user_id]).fetchone()
    assert last == ("device_revoke", str(alice.device_id))


def test_revoke_unknown_or_foreign_device_is_not_found(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    bob = tenant("bob")
    before = snapshot(su)
    errors = []
    for device in (bob.device_id, uuid.uuid4()):
        with pytest.raises(NotFound) as info:
            alice.session.revoke_device(device)  # type: ignore[arg-type]
        errors.append((info.value.sqlstate, info.value.message, info.value.detail))
    # Another tenant's device looks exactly like a missing one.
    assert errors[0] == errors[1]
    with pytest.raises(InvalidInput):
        alice.session.revoke_device(None)  # type: ignore[arg-type]
    assert snapshot(su) == before
    assert bob.session.list_devices()[0].revoked_at is None


def test_revoke_waits_for_a_create_in_flight_and_then_stops_the_device(
    db: Any, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    device_id = alice.device_id
    assert device_id is not None
    writer = Client(db.connect("app"))
    revoker_conn = db.connect("app")
    revoker = Client(revoker_conn)
    pid = revoker_conn.info.backend_pid
    args = alice.backup()
    with writer.transaction() as tx:
        tx.session(alice.token).create_backup(**args)
        pending = Background(lambda: revoker.session(alice.token).revoke_device(device_id))
        wait_until_blocked(su, pid)
    pending.result()
    # The create committed before the revocation, so it stands; nothing after it does.
    assert alice.session.get_backup(args["backup_id"]).ciphertext == args["ciphertext"]
    with pytest.raises(Forbidden):
        alice.session.create_backup(**alice.backup())


def test_a_create_waiting_behind_a_revocation_is_refused(
    db: Any, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    assert alice.device_id is not None
    writer_conn = db.connect("app")
    writer = Client(writer_conn)
    pid = writer_conn.info.backend_pid
    before_used = alice.session.whoami().storage_used_bytes
    with Client(db.connect("app")).transaction() as tx:
        tx.session(alice.token).revoke_device(alice.device_id)
        pending = Background(lambda: writer.session(alice.token).create_backup(**alice.backup()))
        wait_until_blocked(su, pid)
    with pytest.raises(Forbidden):
        pending.result()
    assert alice.session.whoami().storage_used_bytes == before_used


def test_a_login_racing_a_revocation_never_keeps_a_session_of_the_revoked_device(
    db: Any, client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    device_id = alice.device_id
    assert device_id is not None
    login_conn = db.connect("app")
    pid = login_conn.info.backend_pid
    with Client(db.connect("app")).transaction() as tx:
        tx.session(alice.token).revoke_device(device_id)
        pending = Background(lambda: Client(login_conn).login_status(
            alice.username_hash, alice.auth_key, device_id=device_id))
        wait_until_blocked(su, pid)
    assert pending.result().status == "denied"
    valid = su.execute(
        "SELECT count(*) FROM zkeb.sessions WHERE user_id = %s AND device_id = %s "
        "AND revoked_at IS NULL", [alice.user_id, alice.device_id]).fetchone()
    assert valid == (0,)
