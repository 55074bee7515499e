"""The Python client of the zkeb-db SQL API.

Thin on purpose: every method runs exactly one ``zkeb_api`` function, with
named and explicitly cast arguments (the SQL text lives in
``zkeb_db/sql/api/<function>.sql``), and returns frozen dataclasses built by
psycopg's ``class_row``. Business rules stay in SQL; errors become the
classes of :mod:`zkeb_db.errors` through :func:`~zkeb_db.errors.wrap_errors`.

Usage::

    client = Client.connect("postgresql://app@db/zkeb")      # autocommit
    salt = client.prelogin(username_hash).auth_salt
    session = client.login(username_hash, auth_key)            # a Session
    session.create_backup(backup_id=..., device_id=..., ...)

A :class:`Client` works on a psycopg :class:`~psycopg.Connection` or a
:class:`~psycopg_pool.ConnectionPool`:

- an autocommit connection, or an idle non-autocommit one: each call is its
  own transaction (it commits);
- a connection already inside a transaction (the caller's ``with
  conn.transaction():``, or an implicit one): the call joins it and the
  caller commits;
- a pool: each call borrows a connection for one transaction.

:meth:`Client.transaction` runs several calls in one transaction. Calls keep
no state between statements (the token travels with every call), so all of
this also works behind PgBouncer in transaction pooling mode; pass
``prepare_threshold=None`` there so nothing is prepared server-side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any, LiteralString, TypeVar
from uuid import UUID

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import RowFactory, class_row, tuple_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from zkeb_db.errors import RateLimited, Unauthenticated, wrap_errors

__all__ = [
    "AccountInfo",
    "AuditEvent",
    "Backup",
    "BackupCreated",
    "BackupInfo",
    "Client",
    "DeviceInfo",
    "LoginResult",
    "PreloginInfo",
    "RecoveryShare",
    "Session",
    "StorageUsage",
    "SyncChange",
    "SyncPushResult",
]

T = TypeVar("T")

#: The documented defaults of the SQL API (api.md), mirrored for the methods.
DEFAULT_TTL = timedelta(hours=12)

Source = psycopg.Connection[Any] | ConnectionPool[Any]


# --------------------------------------------------------------------------
# Rows (field names are the function's result columns, in order)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PreloginInfo:
    """``prelogin``: what the client needs to derive its auth key."""

    auth_salt: bytes
    kdf_params: Any


@dataclass(frozen=True)
class _RegisteredUser:
    user_id: UUID


@dataclass(frozen=True)
class LoginResult:
    """``login``'s raw answer: status ``ok``, ``denied`` or ``locked``."""

    status: str
    session_token: bytes | None
    user_id: UUID | None
    expires_at: datetime | None
    retry_after: timedelta | None

    def __repr__(self) -> str:  # the token is a credential: never print it
        return (
            f"LoginResult(status={self.status!r}, user_id={self.user_id!r}, "
            f"expires_at={self.expires_at!r}, retry_after={self.retry_after!r})"
        )


@dataclass(frozen=True)
class AccountInfo:
    """``whoami``."""

    user_id: UUID
    storage_quota_bytes: int
    storage_used_bytes: int
    account_status: str


@dataclass(frozen=True)
class _ErasureReceipt:
    erasure_receipt: Any


@dataclass(frozen=True)
class _RegisteredDevice:
    device_id: UUID


@dataclass(frozen=True)
class DeviceInfo:
    """``list_devices``: one device."""

    device_id: UUID
    device_id_hash: bytes
    key_algorithm: str
    public_key: bytes
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class BackupCreated:
    """``create_backup``: ``replayed`` is true for a retry that stored nothing new."""

    created_at: datetime
    storage_used_bytes: int
    replayed: bool


@dataclass(frozen=True)
class BackupInfo:
    """``list_backups``: one backup, without its ciphertext."""

    backup_id: UUID
    backup_name_hash: bytes
    device_id: UUID
    size_bytes: int
    created_at: datetime
    expires_at: datetime | None
    deleted_at: datetime | None


@dataclass(frozen=True)
class Backup:
    """``get_backup``: everything needed to verify and decrypt a backup."""

    ciphertext: bytes
    nonce: bytes
    auth_tag: bytes
    signature: bytes
    device_id: UUID
    public_key: bytes
    key_algorithm: str
    created_at: datetime


@dataclass(frozen=True)
class StorageUsage:
    """``storage_usage``."""

    storage_quota_bytes: int
    storage_used_bytes: int
    backup_count: int
    trashed_count: int


@dataclass(frozen=True)
class _RecoverySetId:
    recovery_set_id: UUID


@dataclass(frozen=True)
class RecoveryShare:
    """``list_recovery_shares``: one share of the current set."""

    recovery_set_id: UUID
    guardian_hash: bytes
    share_index: int
    threshold: int
    total_shares: int
    encrypted_share: bytes
    created_at: datetime


@dataclass(frozen=True)
class SyncPushResult:
    """``sync_push``: status ``applied``, ``stale`` or ``conflict``."""

    status: str
    seq: int | None
    merged_clock: dict[str, int]


@dataclass(frozen=True)
class SyncChange:
    """``sync_pull``: one current head (or sibling) of a synced entity."""

    seq: int
    entity_hash: bytes
    device_id: UUID
    vector_clock: dict[str, int]
    lamport: int
    payload: bytes | None
    is_sibling: bool


@dataclass(frozen=True)
class AuditEvent:
    """``list_audit_events``: one event of the caller's own chain."""

    event_id: int
    action: str
    success: bool
    created_at: datetime
    metadata: dict[str, Any]


#: Row class of each function that returns rows (tests compare the fields
#: with the catalog's result columns).
ROW_TYPES: Mapping[str, type] = {
    "prelogin": PreloginInfo,
    "register_user": _RegisteredUser,
    "login": LoginResult,
    "whoami": AccountInfo,
    "delete_account": _ErasureReceipt,
    "register_device": _RegisteredDevice,
    "list_devices": DeviceInfo,
    "create_backup": BackupCreated,
    "list_backups": BackupInfo,
    "get_backup": Backup,
    "storage_usage": StorageUsage,
    "store_recovery_shares": _RecoverySetId,
    "list_recovery_shares": RecoveryShare,
    "sync_push": SyncPushResult,
    "sync_pull": SyncChange,
    "list_audit_events": AuditEvent,
}

#: Functions that return nothing.
VOID_FUNCTIONS: frozenset[str] = frozenset(
    {"logout", "revoke_device", "delete_backup", "restore_backup", "purge_backup"}
)


def _jsonb(value: Any) -> Jsonb | None:
    """A JSON argument; ``None`` is SQL NULL (not JSON ``null``)."""
    if value is None:
        return None
    return Jsonb(dict(value) if isinstance(value, Mapping) else value)


def _array(values: Sequence[Any] | None) -> list[Any] | None:
    """An array argument; ``None`` is SQL NULL."""
    return None if values is None else list(values)


@cache
def _query(function: str) -> LiteralString:
    # A packaged resource, never user input: it is the literal query.
    return resources.files("zkeb_db").joinpath("sql", "api", f"{function}.sql").read_text("utf-8")


# --------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------


class Client:
    """Calls the ``zkeb_api`` functions over a connection or a pool.

    ``prepare_threshold``: ``None`` never prepares statements server-side
    (what PgBouncer in transaction mode needs); an integer is set as the
    ``prepare_threshold`` of every connection the client uses.
    """

    def __init__(self, source: Source, *, prepare_threshold: int | None = 5) -> None:
        self._source = source
        self.prepare_threshold = prepare_threshold
        self._owns_source = False

    @classmethod
    def connect(
        cls, conninfo: str = "", *, prepare_threshold: int | None = 5, **kwargs: Any
    ) -> Client:
        """Open an autocommit connection that the client owns (see :meth:`close`)."""
        conn: psycopg.Connection[Any] = psycopg.Connection.connect(
            conninfo, autocommit=True, prepare_threshold=prepare_threshold, **kwargs
        )
        client = cls(conn, prepare_threshold=prepare_threshold)
        client._owns_source = True
        return client

    def close(self) -> None:
        """Close the connection if :meth:`connect` opened it (a given source is left alone)."""
        if self._owns_source and isinstance(self._source, psycopg.Connection):
            self._source.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self._source, ConnectionPool):
            with self._source.connection() as conn:
                yield conn
        else:
            yield self._source

    @contextmanager
    def transaction(self) -> Iterator[Client]:
        """Run several calls in one transaction: a client bound to one connection.

        Commits when the block ends, rolls back when it raises (a savepoint when
        the connection is already in a transaction).
        """
        with self._connection() as conn, conn.transaction():
            yield Client(conn, prepare_threshold=self.prepare_threshold)

    def _execute(
        self, function: str, params: Mapping[str, Any], row_factory: RowFactory[T]
    ) -> list[T]:
        query = _query(function)
        prepare = False if self.prepare_threshold is None else None
        with wrap_errors(), self._connection() as conn:
            if self.prepare_threshold is not None and conn.prepare_threshold != (
                self.prepare_threshold
            ):
                conn.prepare_threshold = self.prepare_threshold
            with conn.cursor(row_factory=row_factory) as cur:
                if conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
                    cur.execute(query, params, prepare=prepare)
                    return cur.fetchall()
                with conn.transaction():
                    cur.execute(query, params, prepare=prepare)
                    return cur.fetchall()

    def _rows(self, function: str, params: Mapping[str, Any]) -> list[Any]:
        return self._execute(function, params, class_row(ROW_TYPES[function]))

    def _one(self, function: str, params: Mapping[str, Any]) -> Any:
        rows = self._rows(function, params)
        if len(rows) != 1:  # pragma: no cover - the SQL returns exactly one row
            raise RuntimeError(f"zkeb_api.{function} returned {len(rows)} rows, expected 1")
        return rows[0]

    def _void(self, function: str, params: Mapping[str, Any]) -> None:
        self._execute(function, params, tuple_row)

    # -- accounts and sessions (no session needed) --------------------------

    def prelogin(self, username_hash: bytes) -> PreloginInfo:
        """Auth salt and KDF parameters (deterministic fakes for unknown users)."""
        row: PreloginInfo = self._one("prelogin", {"username_hash": username_hash})
        return row

    def register_user(
        self, username_hash: bytes, auth_salt: bytes, auth_key: bytes, kdf_params: Any
    ) -> UUID:
        """Create an account; returns its user id (``Conflict`` when the hash is taken)."""
        row: _RegisteredUser = self._one(
            "register_user",
            {
                "username_hash": username_hash,
                "auth_salt": auth_salt,
                "auth_key": auth_key,
                "kdf_params": _jsonb(kdf_params),
            },
        )
        return row.user_id

    def login_status(
        self,
        username_hash: bytes,
        auth_key: bytes,
        device_id: UUID | str | None = None,
        ttl: timedelta = DEFAULT_TTL,
    ) -> LoginResult:
        """``login``'s raw answer, without turning ``denied``/``locked`` into errors."""
        row: LoginResult = self._one(
            "login",
            {"username_hash": username_hash, "auth_key": auth_key, "device_id": device_id,
             "ttl": ttl},
        )
        return row

    def login(
        self,
        username_hash: bytes,
        auth_key: bytes,
        device_id: UUID | str | None = None,
        ttl: timedelta = DEFAULT_TTL,
    ) -> Session:
        """Open a session; ``denied`` raises ``Unauthenticated``, ``locked`` ``RateLimited``."""
        result = self.login_status(username_hash, auth_key, device_id=device_id, ttl=ttl)
        if result.status == "ok" and result.session_token is not None:
            return Session(
                self, result.session_token, user_id=result.user_id, expires_at=result.expires_at
            )
        if result.status == "locked":
            raise RateLimited(
                "the account is locked after too many failed logins",
                detail=f"retry after {result.retry_after}",
                retry_after=result.retry_after,
            )
        raise Unauthenticated("login denied: unknown user, wrong key or unusable device")

    def session(self, session_token: bytes) -> Session:
        """A :class:`Session` for a token obtained earlier (e.g. kept by a web backend)."""
        return Session(self, session_token)


class Session:
    """The session token and the client to call with; one method per session function.

    Holds no server-side state: every call sends the token, and the database
    checks it in that call's transaction.
    """

    def __init__(
        self,
        client: Client,
        session_token: bytes,
        *,
        user_id: UUID | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        self.client = client
        self.session_token = session_token
        self.user_id = user_id
        self.expires_at = expires_at

    def __repr__(self) -> str:  # the token is a credential: never print it
        return f"Session(user_id={self.user_id!r}, expires_at={self.expires_at!r})"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Several calls of this session in one transaction (see :meth:`Client.transaction`)."""
        with self.client.transaction() as tx:
            yield Session(tx, self.session_token, user_id=self.user_id,
                          expires_at=self.expires_at)

    def _p(self, **params: Any) -> dict[str, Any]:
        return {"session_token": self.session_token, **params}

    # -- account ------------------------------------------------------------

    def logout(self) -> None:
        """End this session."""
        self.client._void("logout", self._p())

    def whoami(self) -> AccountInfo:
        row: AccountInfo = self.client._one("whoami", self._p())
        return row

    def delete_account(self) -> dict[str, Any]:
        """Erase the account; returns the erasure receipt."""
        row: _ErasureReceipt = self.client._one("delete_account", self._p())
        receipt: dict[str, Any] = row.erasure_receipt
        return receipt

    # -- devices --------------------------------------------------------------

    def register_device(self, device_id_hash: bytes, public_key: bytes, key_algorithm: str) -> UUID:
        row: _RegisteredDevice = self.client._one(
            "register_device",
            self._p(device_id_hash=device_id_hash, public_key=public_key,
                    key_algorithm=key_algorithm),
        )
        return row.device_id

    def revoke_device(self, device_id: UUID | str) -> None:
        self.client._void("revoke_device", self._p(device_id=device_id))

    def list_devices(self) -> list[DeviceInfo]:
        rows: list[DeviceInfo] = self.client._rows("list_devices", self._p())
        return rows

    # -- backups --------------------------------------------------------------

    def create_backup(
        self,
        backup_id: UUID | str,
        device_id: UUID | str,
        backup_name_hash: bytes,
        ciphertext: bytes,
        nonce: bytes,
        auth_tag: bytes,
        signature: bytes,
        expires_at: datetime | None = None,
    ) -> BackupCreated:
        row: BackupCreated = self.client._one(
            "create_backup",
            self._p(backup_id=backup_id, device_id=device_id, backup_name_hash=backup_name_hash,
                    ciphertext=ciphertext, nonce=nonce, auth_tag=auth_tag, signature=signature,
                    expires_at=expires_at),
        )
        return row

    def list_backups(
        self,
        page_size: int = 50,
        before_created_at: datetime | None = None,
        before_id: UUID | str | None = None,
        only_name_hash: bytes | None = None,
        in_trash: bool = False,
    ) -> list[BackupInfo]:
        """One keyset page, newest first; pass the last row's (created_at, backup_id) on."""
        rows: list[BackupInfo] = self.client._rows(
            "list_backups",
            self._p(page_size=page_size, before_created_at=before_created_at,
                    before_id=before_id, only_name_hash=only_name_hash, in_trash=in_trash),
        )
        return rows

    def iter_backups(
        self, page_size: int = 500, only_name_hash: bytes | None = None, in_trash: bool = False
    ) -> Iterator[BackupInfo]:
        """Every backup, newest first, page by page (one call per page)."""
        before: BackupInfo | None = None
        while True:
            page = self.list_backups(
                page_size=page_size,
                before_created_at=before.created_at if before else None,
                before_id=before.backup_id if before else None,
                only_name_hash=only_name_hash,
                in_trash=in_trash,
            )
            yield from page
            if len(page) < page_size:
                return
            before = page[-1]

    def get_backup(self, backup_id: UUID | str) -> Backup:
        row: Backup = self.client._one("get_backup", self._p(backup_id=backup_id))
        return row

    def delete_backup(self, backup_id: UUID | str) -> None:
        """Move to the trash (still counted against the quota)."""
        self.client._void("delete_backup", self._p(backup_id=backup_id))

    def restore_backup(self, backup_id: UUID | str) -> None:
        self.client._void("restore_backup", self._p(backup_id=backup_id))

    def purge_backup(self, backup_id: UUID | str) -> None:
        """Delete for good and give the bytes back."""
        self.client._void("purge_backup", self._p(backup_id=backup_id))

    def storage_usage(self) -> StorageUsage:
        row: StorageUsage = self.client._one("storage_usage", self._p())
        return row

    # -- recovery shares ------------------------------------------------------

    def store_recovery_shares(
        self,
        threshold: int,
        guardian_hashes: Sequence[bytes],
        share_indexes: Sequence[int],
        encrypted_shares: Sequence[bytes],
    ) -> UUID:
        row: _RecoverySetId = self.client._one(
            "store_recovery_shares",
            self._p(threshold=threshold, guardian_hashes=_array(guardian_hashes),
                    share_indexes=_array(share_indexes), encrypted_shares=_array(encrypted_shares)),
        )
        return row.recovery_set_id

    def list_recovery_shares(self) -> list[RecoveryShare]:
        rows: list[RecoveryShare] = self.client._rows("list_recovery_shares", self._p())
        return rows

    # -- sync -----------------------------------------------------------------

    def sync_push(
        self,
        entity_hash: bytes,
        device_id: UUID | str,
        vector_clock: Mapping[str, Any],
        lamport: int,
        payload: bytes | None = None,
    ) -> SyncPushResult:
        row: SyncPushResult = self.client._one(
            "sync_push",
            self._p(entity_hash=entity_hash, device_id=device_id,
                    vector_clock=_jsonb(vector_clock), lamport=lamport, payload=payload),
        )
        return row

    def sync_pull(self, after_seq: int = 0, page_size: int = 100) -> list[SyncChange]:
        rows: list[SyncChange] = self.client._rows(
            "sync_pull", self._p(after_seq=after_seq, page_size=page_size)
        )
        return rows

    # -- audit ----------------------------------------------------------------

    def list_audit_events(
        self, page_size: int = 50, before_id: int | None = None
    ) -> list[AuditEvent]:
        rows: list[AuditEvent] = self.client._rows(
            "list_audit_events", self._p(page_size=page_size, before_id=before_id)
        )
        return rows
