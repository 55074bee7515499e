"""Helpers of the API tests: tenants, backup arguments, database checks."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from zkeb_db.client import Client, Session

KDF = {"alg": "argon2id", "mem_kib": 65536, "iterations": 3, "parallelism": 1}
SIG_LEN = {"ed25519": 64, "rsa-4096": 512}
KEY_LEN = {"ed25519": 32, "rsa-4096": 550}

# The tables a failing call must leave alone.
TABLES = ("users", "devices", "sessions", "encrypted_backups", "recovery_shares",
          "sync_metadata", "audit_logs")


def h(label: str) -> bytes:
    """A 32-byte hash, as clients compute them."""
    return hashlib.sha256(label.encode()).digest()


@dataclass
class Tenant:
    """One registered user with a session (and usually a device)."""

    name: str
    username_hash: bytes
    auth_salt: bytes
    auth_key: bytes
    user_id: uuid.UUID
    session: Session
    device_id: uuid.UUID | None
    key_algorithm: str = "ed25519"

    @property
    def token(self) -> bytes:
        return self.session.session_token

    def backup(self, *, size: int = 100, name: str = "file", **overrides: Any) -> dict[str, Any]:
        """Arguments of a valid create_backup from this tenant's device."""
        assert self.device_id is not None
        args: dict[str, Any] = {
            "backup_id": uuid.uuid4(),
            "device_id": self.device_id,
            "backup_name_hash": h(name),
            "ciphertext": os.urandom(size),
            "nonce": os.urandom(12),
            "auth_tag": os.urandom(16),
            "signature": os.urandom(SIG_LEN[self.key_algorithm]),
        }
        args.update(overrides)
        return args

    def create(self, **kwargs: Any) -> dict[str, Any]:
        """Create a backup; return the arguments used."""
        args = self.backup(**kwargs)
        self.session.create_backup(**args)
        return args


def new_tenant(client: Client, name: str, *, device: bool = True,
               key_algorithm: str = "ed25519") -> Tenant:
    username_hash = h(f"user:{name}")
    auth_salt = h(f"salt:{name}")
    auth_key = h(f"key:{name}")
    user_id = client.register_user(username_hash, auth_salt, auth_key, KDF)
    session = client.login(username_hash, auth_key)
    device_id = None
    if device:
        device_id = session.register_device(
            h(f"device:{name}"), os.urandom(KEY_LEN[key_algorithm]), key_algorithm
        )
    return Tenant(name, username_hash, auth_salt, auth_key, user_id, session, device_id,
                  key_algorithm)


def storage_drift(su: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """Users whose storage_used_bytes differs from the sum of their stored backups."""
    return su.execute(
        """SELECT u.user_id, u.storage_used_bytes, COALESCE(s.total, 0)
             FROM zkeb.users AS u
             LEFT JOIN (SELECT b.user_id, sum(b.size_bytes) AS total
                          FROM zkeb.encrypted_backups AS b GROUP BY b.user_id) AS s
                    ON s.user_id = u.user_id
            WHERE u.storage_used_bytes <> COALESCE(s.total, 0)
               OR u.storage_used_bytes > u.storage_quota_bytes"""
    ).fetchall()


def used_bytes(su: psycopg.Connection[Any], user_id: uuid.UUID) -> int:
    row = su.execute(
        "SELECT storage_used_bytes FROM zkeb.users WHERE user_id = %s", [user_id]
    ).fetchone()
    assert row is not None
    return int(row[0])


def stored_sizes(su: psycopg.Connection[Any], user_id: uuid.UUID) -> int:
    row = su.execute(
        "SELECT COALESCE(sum(size_bytes), 0) FROM zkeb.encrypted_backups WHERE user_id = %s",
        [user_id],
    ).fetchone()
    assert row is not None
    return int(row[0])


def snapshot(su: psycopg.Connection[Any]) -> dict[str, Any]:
    """Everything a rejected call must not change: row counts, bytes used, chain heads."""
    state: dict[str, Any] = {
        f"count_{t}": su.execute(f"SELECT count(*) FROM zkeb.{t}").fetchone() for t in TABLES
    }
    state["users"] = su.execute(
        "SELECT user_id, storage_used_bytes, failed_login_count, locked_until, sync_seq, "
        "audit_event_id FROM zkeb.users ORDER BY user_id"
    ).fetchall()
    state["devices"] = su.execute(
        "SELECT user_id, device_id, revoked_at, sync_lamport FROM zkeb.devices ORDER BY 1, 2"
    ).fetchall()
    state["sessions"] = su.execute(
        "SELECT user_id, token_hash, revoked_at FROM zkeb.sessions ORDER BY 1, 2"
    ).fetchall()
    state["encrypted_backups"] = su.execute(
        "SELECT user_id, backup_id, deleted_at FROM zkeb.encrypted_backups ORDER BY 1, 2"
    ).fetchall()
    state["sync_metadata"] = su.execute(
        "SELECT user_id, version_id, seq, is_sibling FROM zkeb.sync_metadata ORDER BY 1, 2"
    ).fetchall()
    return state


def wait_until_blocked(su: psycopg.Connection[Any], pid: int, timeout: float = 30.0) -> None:
    """Wait until backend ``pid`` waits on a lock (a readiness poll, not an assertion on time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = su.execute(
            "SELECT wait_event_type FROM pg_catalog.pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
        if row is not None and row[0] == "Lock":
            return
        time.sleep(0.01)
    raise AssertionError(f"backend {pid} never blocked on a lock")


class Background:
    """Run a callable in a thread; ``result()`` returns its value or re-raises its error."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._value: Any = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = fn()
            except BaseException as exc:  # handed to the test thread
                self._error = exc

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self, timeout: float = 60.0) -> Any:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "background call did not finish"
        if self._error is not None:
            raise self._error
        return self._value
