"""Helpers of the reliability suite: tenants, argument builders, database probes,
planted bugs and the figures that docs/reliability.md is written from.

Every figure is counted by the test that produced it (``FIGURES``) and written
to a JSON file at the end of the session (see ``conftest.py``);
``report.py`` renders that file. Nothing here invents a number.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg

from zkeb_db.client import Client, Session
from zkeb_db.errors import ZkebError

KDF = {"alg": "argon2id", "mem_kib": 65536, "iterations": 3, "parallelism": 1}
SIG_LEN = {"ed25519": 64, "rsa-4096": 512}
KEY_LEN = {"ed25519": 32, "rsa-4096": 550}

# Every table a rejected call must leave alone (settings included).
TABLES = (
    "zkeb.users",
    "zkeb.devices",
    "zkeb.sessions",
    "zkeb.encrypted_backups",
    "zkeb.recovery_shares",
    "zkeb.sync_metadata",
    "zkeb.audit_logs",
    "zkeb_private.settings",
)

# The whole public API (api.md), in the order the docs list it.
API_FUNCTIONS = (
    "prelogin", "register_user", "login", "logout", "whoami", "delete_account",
    "register_device", "revoke_device", "list_devices",
    "create_backup", "list_backups", "get_backup", "delete_backup", "restore_backup",
    "purge_backup", "storage_usage",
    "store_recovery_shares", "list_recovery_shares",
    "sync_push", "sync_pull", "list_audit_events",
)
PRE_SESSION = ("prelogin", "register_user", "login")


def h(label: str) -> bytes:
    """A 32-byte hash, as clients compute them."""
    return hashlib.sha256(label.encode()).digest()


def stretch(seed: str, length: int) -> bytes:
    """``length`` deterministic bytes derived from ``seed``."""
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return out[:length]


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


class Figures:
    """Thread-safe counters, grouped; dumped as JSON at the end of the session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.data: dict[str, dict[str, Any]] = {}
        self._controls = 0

    @contextmanager
    def negative_control(self) -> Iterator[None]:
        """While a bug is planted, every count goes to ``control: <group>`` instead."""
        with self._lock:
            self._controls += 1
        try:
            yield
        finally:
            with self._lock:
                self._controls -= 1

    def _group(self, group: str) -> str:
        return f"control: {group}" if self._controls else group

    def add(self, group: str, key: str, n: int = 1) -> None:
        with self._lock:
            g = self.data.setdefault(self._group(group), {})
            g[key] = g.get(key, 0) + n

    def put(self, group: str, key: str, value: Any) -> None:
        with self._lock:
            self.data.setdefault(self._group(group), {})[key] = value

    def maximum(self, group: str, key: str, value: int) -> None:
        with self._lock:
            g = self.data.setdefault(self._group(group), {})
            g[key] = max(g.get(key, value), value)

    def control(self, name: str, detected: bool, how: str) -> None:
        """A negative control: a planted bug and whether the suite caught it."""
        with self._lock:
            self.data.setdefault("negative_controls", {})[name] = {
                "detected": detected, "how": how}

    def attack(self, category: str, succeeded: bool) -> None:
        with self._lock:
            g = self.data.setdefault(self._group("attacks"), {})
            entry = g.setdefault(category, {"tried": 0, "succeeded": 0})
            entry["tried"] += 1
            entry["succeeded"] += int(succeeded)

    def dump(self, path: str) -> None:
        with self._lock:
            text = json.dumps(self.data, indent=2, sort_keys=True, default=str)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


FIGURES = Figures()


# --------------------------------------------------------------------------
# Tenants and arguments
# --------------------------------------------------------------------------


@dataclass
class Tenant:
    """A registered user with a session and (usually) one device."""

    label: str
    username_hash: bytes
    auth_salt: bytes
    auth_key: bytes
    user_id: uuid.UUID
    session: Session
    device_id: uuid.UUID | None
    key_algorithm: str = "ed25519"
    backups: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)

    @property
    def token(self) -> bytes:
        return bytes(self.session.session_token)

    def backup_args(self, *, size: int = 64, name_hash: bytes | None = None,
                    backup_id: uuid.UUID | str | None = None,
                    **overrides: Any) -> dict[str, Any]:
        """Arguments of a valid create_backup; the ciphertext starts with the tenant's label."""
        assert self.device_id is not None
        marker = f"[{self.label}]".encode()
        body = os.urandom(max(size - len(marker), 0))
        args: dict[str, Any] = {
            "backup_id": uuid.uuid4() if backup_id is None else backup_id,
            "device_id": self.device_id,
            "backup_name_hash": name_hash or h(f"name:{self.label}:{uuid.uuid4()}"),
            "ciphertext": (marker + body)[:size] if size >= 1 else b"",
            "nonce": os.urandom(12),
            "auth_tag": os.urandom(16),
            "signature": os.urandom(SIG_LEN[self.key_algorithm]),
        }
        args.update(overrides)
        return args

    def create(self, **kwargs: Any) -> dict[str, Any]:
        args = self.backup_args(**kwargs)
        self.session.create_backup(**args)
        self.backups[args["backup_id"]] = args
        return args


def new_tenant(client: Client, label: str, *, device: bool = True, key_algorithm: str = "ed25519",
               device_id_hash: bytes | None = None, public_key: bytes | None = None) -> Tenant:
    """Register, log in (no device), register one device."""
    username_hash = h(f"user:{label}:{uuid.uuid4()}")
    auth_salt = h(f"salt:{label}")
    auth_key = h(f"key:{label}:{uuid.uuid4()}")
    user_id = client.register_user(username_hash, auth_salt, auth_key, KDF)
    session = client.login(username_hash, auth_key)
    device_id = None
    if device:
        device_id = session.register_device(
            device_id_hash or h(f"device:{label}"),
            public_key or os.urandom(KEY_LEN[key_algorithm]),
            key_algorithm,
        )
    return Tenant(label, username_hash, auth_salt, auth_key, user_id, session, device_id,
                  key_algorithm)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def sqlstate_of(exc: BaseException) -> str | None:
    if isinstance(exc, ZkebError):
        return exc.sqlstate
    if isinstance(exc, psycopg.Error):
        return str(exc.diag.sqlstate) if exc.diag.sqlstate is not None else None
    return None


def message_of(exc: BaseException) -> tuple[str | None, str | None, str | None]:
    """(message, detail, hint) as the server sent them."""
    if isinstance(exc, ZkebError):
        return exc.message, exc.detail, exc.hint
    if isinstance(exc, psycopg.Error):
        return exc.diag.message_primary, exc.diag.message_detail, exc.diag.message_hint
    return str(exc), None, None


@dataclass(frozen=True)
class Outcome:
    """What a call answered: a value, or an error's SQLSTATE and texts."""

    ok: bool
    value: Any = None
    sqlstate: str | None = None
    message: tuple[str | None, str | None, str | None] | None = None

    def __repr__(self) -> str:
        if self.ok:
            return f"ok({self.value!r})"
        return f"error({self.sqlstate}: {self.message})"


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
    try:
        return Outcome(True, fn(*args, **kwargs))
    except (ZkebError, psycopg.Error) as exc:
        return Outcome(False, None, sqlstate_of(exc), message_of(exc))


# --------------------------------------------------------------------------
# Database probes
# --------------------------------------------------------------------------


def db_digest(su: psycopg.Connection[Any]) -> dict[str, tuple[int, str | None]]:
    """Row count and an md5 over every row of every table: any write changes it."""
    parts = ", ".join(
        f"(SELECT pg_catalog.count(*) FROM {t}), "
        f"(SELECT pg_catalog.md5(pg_catalog.string_agg(x::text, '|' ORDER BY x::text)) "
        f"FROM {t} AS x)"
        for t in TABLES
    )
    row = su.execute(f"SELECT {parts}").fetchone()
    assert row is not None
    return {t: (int(row[2 * i]), row[2 * i + 1]) for i, t in enumerate(TABLES)}


def used_bytes(su: psycopg.Connection[Any], user_id: uuid.UUID) -> int:
    row = su.execute("SELECT storage_used_bytes FROM zkeb.users WHERE user_id = %s",
                     [user_id]).fetchone()
    assert row is not None
    return int(row[0])


def stored_bytes(su: psycopg.Connection[Any], user_id: uuid.UUID) -> int:
    row = su.execute("SELECT COALESCE(sum(size_bytes), 0) FROM zkeb.encrypted_backups "
                     "WHERE user_id = %s", [user_id]).fetchone()
    assert row is not None
    return int(row[0])


def invariant_violations(maint: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return maint.execute("SELECT * FROM zkeb_maint.check_invariants()").fetchall()


def audit_chain_ok(conn: psycopg.Connection[Any]) -> tuple[bool, Any]:
    row = conn.execute("SELECT ok, detail FROM zkeb_maint.verify_audit_chain()").fetchone()
    assert row is not None
    return bool(row[0]), row[1]


def set_settings(su: psycopg.Connection[Any], **values: Any) -> None:
    """Change the private settings row of a test clone (superuser)."""
    for name, value in values.items():
        assert name.isidentifier()
        su.execute(f"UPDATE zkeb_private.settings SET {name} = %s", [value])


# --------------------------------------------------------------------------
# Planted bugs (negative controls)
# --------------------------------------------------------------------------


def function_source(su: psycopg.Connection[Any], signature: str) -> str:
    row = su.execute("SELECT pg_catalog.pg_get_functiondef(%s::regprocedure)",
                     [signature]).fetchone()
    assert row is not None
    return str(row[0])


Replacements = Mapping[str, str] | list[Mapping[str, str]]


def _matches(source: str, old: str) -> bool:
    return re.search(r"\s+".join(re.escape(part) for part in old.split()), source) is not None


def plant(su: psycopg.Connection[Any], signature: str, replacements: Replacements) -> str:
    """Replace snippets of a function's source (CREATE OR REPLACE keeps owner, grants,
    SECURITY DEFINER and search_path). Snippets match whitespace-insensitively; a snippet
    that is not in the deployed source fails the test, so a control never silently
    plants nothing. A list gives alternatives (one per known shape of the function; the
    first whose snippets all match is used). Returns the original source."""
    original = function_source(su, signature)
    if isinstance(replacements, list):
        # Alternatives, one per known shape of the function: the first that fits wins.
        fitting = [r for r in replacements if all(_matches(original, o) for o in r)]
        assert fitting, f"planted bug: no alternative fits the deployed {signature}"
        replacements = fitting[0]
    planted = original
    for old, new in replacements.items():
        # Whitespace-insensitive: any run of blanks in the snippet matches any run.
        pattern = r"\s+".join(re.escape(part) for part in old.split())
        planted, n = re.subn(pattern, lambda _m, new=new: str(new), planted)
        assert n, f"planted bug: {old!r} not found in {signature}"
    assert planted != original
    su.execute(planted.encode())
    return original


@contextmanager
def planted(su: psycopg.Connection[Any], signature: str,
            replacements: Replacements) -> Iterator[None]:
    original = plant(su, signature, replacements)
    try:
        with FIGURES.negative_control():
            yield
    finally:
        su.execute(original.encode())


def reset_data(su: psycopg.Connection[Any]) -> None:
    """Empty every tenant table and the audit log (superuser, triggers off).

    DELETE rather than TRUNCATE: on these few rows it is ten times cheaper."""
    with su.transaction():
        su.execute("SET LOCAL session_replication_role = replica")
        for table in ("audit_logs", "sync_metadata", "recovery_shares", "encrypted_backups",
                      "sessions", "devices", "users"):
            su.execute(f"DELETE FROM zkeb.{table}")


def fast_commits(su: psycopg.Connection[Any], dbname: str) -> None:
    """``synchronous_commit = off`` for new connections to a test clone (never the crash
    test's cluster): commits stop waiting for the WAL flush; nothing here survives a
    server crash anyway, and the main server is never crashed."""
    su.execute(f'ALTER DATABASE "{dbname}" SET synchronous_commit = off')
    su.execute("SET synchronous_commit = off")
