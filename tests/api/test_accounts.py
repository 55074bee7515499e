"""prelogin, register_user, login, logout, whoami, delete_account and the session token."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from zkeb_api_testkit import KDF, Tenant, h, snapshot

from zkeb_db.client import Client
from zkeb_db.errors import Conflict, Forbidden, InvalidInput, RateLimited, Unauthenticated

NULL_RESULT = (None, None, None, None)


def _failed_count(su: psycopg.Connection[Any], user_id: uuid.UUID) -> tuple[int, Any]:
    row = su.execute(
        "SELECT failed_login_count, locked_until FROM zkeb.users WHERE user_id = %s", [user_id]
    ).fetchone()
    assert row is not None
    return row[0], row[1]


# -- prelogin -------------------------------------------------------------------


def test_prelogin_known_and_unknown_users_look_alike(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    known = client.prelogin(alice.username_hash)
    assert known.auth_salt == alice.auth_salt
    assert known.kdf_params == KDF

    unknown = client.prelogin(h("user:nobody"))
    assert len(unknown.auth_salt) == 32
    assert unknown.auth_salt != alice.auth_salt
    # Deterministic: asking again gives the same fake salt, so repeated probing
    # cannot tell a fake from a real one.
    assert client.prelogin(h("user:nobody")) == unknown
    assert client.prelogin(h("user:other")).auth_salt != unknown.auth_salt
    default = su.execute("SELECT default_kdf_params FROM zkeb_private.settings").fetchone()
    assert default is not None and unknown.kdf_params == default[0]


def test_prelogin_rejects_bad_username_hash(client: Client) -> None:
    for bad in (None, b"", b"x" * 31, b"x" * 33):
        with pytest.raises(InvalidInput):
            client.prelogin(bad)  # type: ignore[arg-type]


# -- register_user -------------------------------------------------------------


def test_register_user_stores_a_verifier_only(client: Client, su: psycopg.Connection[Any]) -> None:
    user_id = client.register_user(h("u"), h("salt"), h("key"), {"alg": "x"})
    row = su.execute(
        "SELECT username_hash, auth_salt, auth_verifier, kdf_params, storage_quota_bytes, "
        "storage_used_bytes, account_status FROM zkeb.users WHERE user_id = %s",
        [user_id],
    ).fetchone()
    assert row is not None
    quota = su.execute("SELECT default_quota_bytes FROM zkeb_private.settings").fetchone()
    assert quota is not None
    assert row == (h("u"), h("salt"), hashlib.sha256(h("salt") + h("key")).digest(),
                   {"alg": "x"}, quota[0], 0, "active")
    events = su.execute("SELECT action, success FROM zkeb.audit_logs "
                        "WHERE user_hash = zkeb_private.audit_user_hash(%s)", [user_id]).fetchall()
    assert events == [("register", True)]


def test_register_user_taken_hash_is_conflict(client: Client, su: psycopg.Connection[Any]) -> None:
    client.register_user(h("u"), h("salt"), h("key"), KDF)
    before = snapshot(su)
    with pytest.raises(Conflict):
        client.register_user(h("u"), h("salt2"), h("key2"), KDF)
    assert snapshot(su) == before


def test_register_user_rejects_bad_input(client: Client, su: psycopg.Connection[Any]) -> None:
    cases: list[tuple[str, Any]] = [
        ("username_hash", None), ("username_hash", b"short"),
        ("auth_salt", None), ("auth_salt", b"x" * 33),
        ("auth_key", None), ("auth_key", b""),
        ("kdf_params", None), ("kdf_params", [1, 2]), ("kdf_params", "text"), ("kdf_params", 3),
        ("kdf_params", {"pad": "x" * 1100}),
    ]
    before = snapshot(su)
    for field, value in cases:
        args: dict[str, Any] = {"username_hash": h("u"), "auth_salt": h("s"),
                                "auth_key": h("k"), "kdf_params": KDF}
        args[field] = value
        with pytest.raises(InvalidInput):
            client.register_user(**args)
        assert snapshot(su) == before, (field, value)


# -- login ------------------------------------------------------------------------


def test_login_ok_returns_a_48_byte_token_and_stores_its_hash_only(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice", device=False)
    result = client.login_status(alice.username_hash, alice.auth_key, ttl=timedelta(hours=1))
    assert result.status == "ok"
    assert result.user_id == alice.user_id
    assert result.retry_after is None
    token = result.session_token
    assert token is not None and len(token) == 48
    assert token[:16] == alice.user_id.bytes
    assert result.expires_at is not None
    rows = su.execute("SELECT token_hash, expires_at - created_at FROM zkeb.sessions "
                      "WHERE user_id = %s AND token_hash = sha256(%s)", [alice.user_id, token])
    stored = rows.fetchall()
    assert len(stored) == 1 and stored[0][1] == timedelta(hours=1)
    # The token itself is in no column of any table.
    hits = su.execute(
        "SELECT count(*) FROM zkeb.sessions WHERE position(%s IN token_hash) > 0", [token]
    ).fetchone()
    assert hits == (0,)
    assert client.session(token).whoami().user_id == alice.user_id


def test_unknown_user_and_wrong_key_get_identical_answers(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice", device=False)
    wrong_key = client.login_status(alice.username_hash, h("wrong"))
    unknown = client.login_status(h("user:nobody"), h("wrong"))
    assert wrong_key == unknown
    assert (wrong_key.status, wrong_key.session_token, wrong_key.user_id, wrong_key.expires_at,
            wrong_key.retry_after) == ("denied", *NULL_RESULT)
    with pytest.raises(Unauthenticated) as a:
        client.login(alice.username_hash, h("wrong"))
    with pytest.raises(Unauthenticated) as b:
        client.login(h("user:nobody"), h("wrong"))
    assert str(a.value) == str(b.value)
    # Failures of unknown users are stored nowhere; the known user's are counted.
    assert _failed_count(su, alice.user_id)[0] == 2
    users = su.execute("SELECT count(*) FROM zkeb.users").fetchone()
    assert users == (1,)


def test_lockout_engages_after_threshold_and_survives_the_failing_calls(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice", device=False)
    threshold = su.execute("SELECT lockout_threshold FROM zkeb_private.settings").fetchone()
    assert threshold == (10,)
    for attempt in range(1, 10):
        assert client.login_status(alice.username_hash, h("wrong")).status == "denied"
        # Each failure is committed by the call that reported it.
        assert _failed_count(su, alice.user_id) == (attempt, None)
    tenth = client.login_status(alice.username_hash, h("wrong"))
    assert tenth.status == "locked"
    _, locked_until = _failed_count(su, alice.user_id)
    assert locked_until is not None
    # Now even the right key is refused, with a retry time and nothing else.
    locked = client.login_status(alice.username_hash, alice.auth_key)
    assert locked.status == "locked"
    assert locked.session_token is None and locked.user_id is None and locked.expires_at is None
    assert locked.retry_after is not None
    assert timedelta(minutes=14) < locked.retry_after <= timedelta(minutes=15)
    with pytest.raises(RateLimited) as info:
        client.login(alice.username_hash, alice.auth_key)
    assert info.value.retry_after is not None
    # A lockout does not end live sessions.
    assert alice.session.whoami().user_id == alice.user_id
    # When the lock has run out the right key gets in and the count starts over.
    su.execute("UPDATE zkeb.users SET locked_until = now() - interval '1 second', "
               "failed_login_count = 3 WHERE user_id = %s", [alice.user_id])
    assert client.login_status(alice.username_hash, alice.auth_key).status == "ok"
    assert _failed_count(su, alice.user_id) == (0, None)
    actions = [r[0] for r in su.execute(
        "SELECT action FROM zkeb.audit_logs WHERE user_hash = zkeb_private.audit_user_hash(%s) "
        "ORDER BY event_id", [alice.user_id]).fetchall()]
    assert actions.count("login_denied") == 9
    assert actions.count("login_locked") == 3


def test_lockout_follows_the_settings(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    su.execute("UPDATE zkeb_private.settings SET lockout_threshold = 3, "
               "lockout_duration = interval '2 hours'")
    alice = tenant("alice", device=False)
    statuses = [client.login_status(alice.username_hash, h("wrong")).status for _ in range(3)]
    assert statuses == ["denied", "denied", "locked"]
    retry = client.login_status(alice.username_hash, alice.auth_key).retry_after
    assert retry is not None and timedelta(hours=1, minutes=59) < retry <= timedelta(hours=2)


def test_a_success_resets_the_failure_count(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice", device=False)
    for _ in range(9):
        client.login_status(alice.username_hash, h("wrong"))
    assert client.login_status(alice.username_hash, alice.auth_key).status == "ok"
    assert _failed_count(su, alice.user_id) == (0, None)
    assert client.login_status(alice.username_hash, h("wrong")).status == "denied"


def test_login_rejects_bad_input(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice", device=False)
    cases: list[tuple[str, Any]] = [
        ("username_hash", None), ("username_hash", b"x"), ("auth_key", None),
        ("auth_key", b"x" * 64), ("ttl", None), ("ttl", timedelta(seconds=59)),
        ("ttl", timedelta(days=30, seconds=1)), ("ttl", timedelta(minutes=-5)),
    ]
    before = snapshot(su)
    for field, value in cases:
        args: dict[str, Any] = {"username_hash": alice.username_hash,
                                "auth_key": alice.auth_key, "ttl": timedelta(hours=1)}
        args[field] = value
        with pytest.raises(InvalidInput):
            client.login_status(**args)
        assert snapshot(su) == before, (field, value)
    # The bounds themselves are allowed.
    for ttl in (timedelta(minutes=1), timedelta(days=30)):
        assert client.login_status(alice.username_hash, alice.auth_key, ttl=ttl).status == "ok"


def test_login_with_a_device(client: Client, tenant: Callable[..., Tenant]) -> None:
    alice = tenant("alice")
    bob = tenant("bob")
    ok = client.login_status(alice.username_hash, alice.auth_key, device_id=alice.device_id)
    assert ok.status == "ok"
    # Another tenant's device and a made-up one answer like a wrong key.
    denied = client.login_status(alice.username_hash, h("wrong"))
    for device in (bob.device_id, uuid.uuid4()):
        assert client.login_status(alice.username_hash, alice.auth_key,
                                   device_id=device) == denied
    assert alice.device_id is not None
    alice.session.revoke_device(alice.device_id)
    assert client.login_status(alice.username_hash, alice.auth_key,
                               device_id=alice.device_id) == denied


# -- sessions ----------------------------------------------------------------------


def test_bad_tokens_are_unauthenticated(client: Client, tenant: Callable[..., Tenant]) -> None:
    tenant("alice")
    tokens = [None, b"", b"\x00", os.urandom(47), os.urandom(49), os.urandom(48), b"\x00" * 48,
              b"\xff" * 48]
    for token in tokens:
        session = client.session(token)  # type: ignore[arg-type]
        with pytest.raises(Unauthenticated):
            session.whoami()
        with pytest.raises(Unauthenticated):
            session.list_backups()


def test_forged_token_with_a_real_user_id_is_refused(
    client: Client, tenant: Callable[..., Tenant]
) -> None:
    alice = tenant("alice")
    forged = alice.user_id.bytes + os.urandom(32)
    with pytest.raises(Unauthenticated):
        client.session(forged).whoami()
    # Alice's token with one bit flipped in its secret half.
    flipped = bytearray(alice.token)
    flipped[-1] ^= 1
    with pytest.raises(Unauthenticated):
        client.session(bytes(flipped)).list_devices()


def test_a_context_left_on_the_backend_is_never_trusted(
    client: Client, tenant: Callable[..., Tenant], app_conn: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    alice.create()
    # Session-level (not transaction-local) context, as a hostile or buggy
    # application could leave it on a pooled backend.
    app_conn.execute("SELECT set_config('zkeb.session_token', %s, false)", [alice.token.hex()])
    app_conn.execute("SELECT set_config('zkeb.lookup_user_id', %s, false)", [str(alice.user_id)])
    for token in (None, b""):
        with pytest.raises(Unauthenticated):
            client.session(token).list_backups()  # type: ignore[arg-type]
    with pytest.raises(Unauthenticated):
        client.session(os.urandom(48)).whoami()
    assert len(alice.session.list_backups()) == 1


def test_whoami(tenant: Callable[..., Tenant]) -> None:
    alice = tenant("alice")
    me = alice.session.whoami()
    assert (me.user_id, me.storage_used_bytes, me.account_status) == (alice.user_id, 0, "active")
    assert me.storage_quota_bytes == 1024 ** 3


def test_logout_refuses_the_token_in_the_next_transaction(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    other = client.login(alice.username_hash, alice.auth_key)
    alice.session.logout()
    with pytest.raises(Unauthenticated):
        alice.session.whoami()
    with pytest.raises(Unauthenticated):
        alice.session.logout()
    # Only that session ended.
    assert other.whoami().user_id == alice.user_id
    revoked = su.execute("SELECT count(*) FROM zkeb.sessions WHERE user_id = %s "
                         "AND revoked_at IS NOT NULL", [alice.user_id]).fetchone()
    assert revoked == (1,)


def test_logout_takes_effect_inside_its_transaction_and_rolls_back_with_it(
    tenant: Callable[..., Tenant]
) -> None:
    alice = tenant("alice")
    with alice.session.transaction() as tx:
        tx.whoami()
        tx.logout()
        with pytest.raises(Unauthenticated):
            tx.whoami()
        raise psycopg.Rollback()
    # The logout was rolled back with its transaction: the session lives on.
    assert alice.session.whoami().user_id == alice.user_id


def test_expired_session_is_refused(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    su.execute("UPDATE zkeb.sessions SET created_at = now() - interval '2 hours', "
               "expires_at = now() - interval '1 microsecond' "
               "WHERE token_hash = sha256(%s)", [alice.token])
    with pytest.raises(Unauthenticated):
        alice.session.whoami()


def test_suspended_account_gets_forbidden_on_every_session_call(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    backup = alice.create()
    su.execute("UPDATE zkeb.users SET account_status = 'suspended' WHERE user_id = %s",
               [alice.user_id])
    s = alice.session
    calls: list[Callable[[], Any]] = [
        s.whoami, s.list_devices, s.list_backups, s.storage_usage, s.list_recovery_shares,
        s.sync_pull, s.list_audit_events, s.logout, s.delete_account,
        lambda: s.get_backup(backup["backup_id"]),
        lambda: s.delete_backup(backup["backup_id"]),
        lambda: s.create_backup(**alice.backup()),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()


# -- delete_account -------------------------------------------------------------------


def test_delete_account_erases_every_row_and_returns_a_receipt(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    bob = tenant("bob")
    kept = bob.create()
    for _ in range(3):
        alice.create()
    assert alice.device_id is not None
    alice.session.store_recovery_shares(2, [h("g1"), h("g2")], [1, 2], [b"a", b"b"])
    alice.session.sync_push(h("e"), alice.device_id, {str(alice.device_id): 1}, 1)
    second = client.login(alice.username_hash, alice.auth_key)
    bob_before = [r for r in snapshot(su)["encrypted_backups"] if r[0] == bob.user_id]

    receipt = alice.session.delete_account()

    assert receipt["rows_erased"] == {"users": 1, "devices": 1, "sessions": 2,
                                      "encrypted_backups": 3, "recovery_shares": 2,
                                      "sync_metadata": 1}
    user_hash = su.execute("SELECT encode(zkeb_private.audit_user_hash(%s), 'hex')",
                           [alice.user_id]).fetchone()
    assert user_hash is not None and receipt["user_hash"] == user_hash[0]
    last = su.execute("SELECT event_id, encode(row_hash, 'hex'), action, metadata "
                      "FROM zkeb.audit_logs WHERE encode(user_hash, 'hex') = %s "
                      "ORDER BY event_id DESC LIMIT 1", [user_hash[0]]).fetchone()
    assert last is not None
    assert (receipt["last_audit_event_id"], receipt["last_audit_hash"]) == last[:2]
    assert last[2] == "account_delete"
    assert last[3]["rows_erased"] == receipt["rows_erased"]
    assert receipt["erased_at"]
    for table in ("users", "devices", "sessions", "encrypted_backups", "recovery_shares",
                  "sync_metadata"):
        left = su.execute(f"SELECT count(*) FROM zkeb.{table} WHERE user_id = %s",
                          [alice.user_id]).fetchone()
        assert left == (0,), table
    # Bob is untouched; Alice's tokens are dead; she now looks like nobody.
    assert snapshot(su)["encrypted_backups"] == bob_before
    assert bob.session.whoami().storage_used_bytes == 100
    assert bob.session.get_backup(kept["backup_id"]).ciphertext == kept["ciphertext"]
    for session in (alice.session, second):
        with pytest.raises(Unauthenticated):
            session.whoami()
    assert client.login_status(alice.username_hash, alice.auth_key) == client.login_status(
        h("user:nobody"), alice.auth_key)
    assert client.prelogin(alice.username_hash).auth_salt != alice.auth_salt
    # The name can be registered again, as a new account.
    assert client.register_user(alice.username_hash, h("s"), h("k"), KDF) != alice.user_id
