"""Helpers of the maintenance tests: data planted as superuser, audit chains, tampering.

Rows are inserted directly as the superuser (which bypasses row level
security), so these tests do not depend on the API; ``storage_used_bytes`` is
kept equal to the stored sizes by every helper that stores a backup.  Audit
events go through ``zkeb_private.audit`` itself, the one writer of the log.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

ZERO32 = bytes(32)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def h(label: str) -> bytes:
    """A 32-byte hash, as clients compute them."""
    return hashlib.sha256(label.encode()).digest()


@dataclass(frozen=True)
class Account:
    """A user planted by :func:`make_account`, with one ed25519 device."""

    user_id: uuid.UUID
    device_id: uuid.UUID


def make_account(su: psycopg.Connection[Any], *, quota: int = 10**9,
                 register_event: bool = True) -> Account:
    user_id = uuid.uuid4()
    su.execute(
        "INSERT INTO zkeb.users (user_id, username_hash, auth_salt, auth_verifier, kdf_params,"
        "                        storage_quota_bytes)"
        " VALUES (%s, %s, %s, %s, '{}', %s)",
        [user_id, os.urandom(32), os.urandom(32), os.urandom(32), quota],
    )
    row = su.execute(
        "INSERT INTO zkeb.devices (user_id, device_id_hash, key_algorithm, public_key)"
        " VALUES (%s, %s, 'ed25519', %s) RETURNING device_id",
        [user_id, os.urandom(32), os.urandom(32)],
    ).fetchone()
    assert row is not None
    if register_event:
        audit(su, user_id, "register")
    return Account(user_id, row[0])


def add_backup(su: psycopg.Connection[Any], acct: Account, size: int = 100, *,
               expires_at: datetime | None = None,
               deleted_at: datetime | None = None) -> uuid.UUID:
    """Store a backup of ``size`` bytes and charge it, as create_backup would."""
    backup_id = uuid.uuid4()
    with su.transaction():
        su.execute(
            "INSERT INTO zkeb.encrypted_backups (user_id, backup_id, device_id, backup_name_hash,"
            "   ciphertext, nonce, auth_tag, signature, key_algorithm, size_bytes, expires_at,"
            "   deleted_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'ed25519', %s, %s, %s)",
            [acct.user_id, backup_id, acct.device_id, os.urandom(32), os.urandom(size),
             os.urandom(12), os.urandom(16), os.urandom(64), size, expires_at, deleted_at],
        )
        su.execute(
            "UPDATE zkeb.users SET storage_used_bytes = storage_used_bytes + %s"
            " WHERE user_id = %s",
            [size, acct.user_id],
        )
    return backup_id


def add_backups(su: psycopg.Connection[Any], acct: Account, count: int, size: int, *,
                expires_at: datetime | None = None,
                deleted_at: datetime | None = None) -> int:
    """Store ``count`` backups of ``size`` bytes in one statement; returns the bytes charged."""
    with su.transaction():
        su.execute(
            "INSERT INTO zkeb.encrypted_backups (user_id, backup_id, device_id, backup_name_hash,"
            "   ciphertext, nonce, auth_tag, signature, key_algorithm, size_bytes, expires_at,"
            "   deleted_at)"
            " SELECT %(u)s, gen_random_uuid(), %(d)s, sha256(g::text::bytea),"
            "        convert_to(repeat('c', %(size)s), 'UTF8'), '\\x000000000000000000000000',"
            "        '\\x00000000000000000000000000000000', decode(repeat('00', 64), 'hex'),"
            "        'ed25519', %(size)s, %(e)s, %(t)s"
            "   FROM generate_series(1, %(n)s) AS g",
            {"u": acct.user_id, "d": acct.device_id, "size": size, "n": count,
             "e": expires_at, "t": deleted_at},
        )
        su.execute(
            "UPDATE zkeb.users SET storage_used_bytes = storage_used_bytes + %s"
            " WHERE user_id = %s",
            [count * size, acct.user_id],
        )
    return count * size


def add_session(su: psycopg.Connection[Any], acct: Account, *, expires_at: datetime,
                with_device: bool = True) -> bytes:
    token_hash = os.urandom(32)
    su.execute(
        "INSERT INTO zkeb.sessions (user_id, token_hash, device_id, created_at, expires_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        [acct.user_id, token_hash, acct.device_id if with_device else None,
         expires_at - timedelta(days=1), expires_at],
    )
    return token_hash


def audit(su: psycopg.Connection[Any], user_id: uuid.UUID | None, action: str,
          n: int = 1, metadata: str = "{}") -> None:
    """Append ``n`` events through zkeb_private.audit (``None``: the system chain)."""
    for _ in range(n):
        su.execute("SELECT zkeb_private.audit(%s, %s, true, %s::jsonb)",
                   [user_id, action, metadata])


def user_hash(su: psycopg.Connection[Any], user_id: uuid.UUID | None) -> bytes:
    row = su.execute("SELECT zkeb_private.audit_user_hash(%s)", [user_id]).fetchone()
    assert row is not None
    return bytes(row[0])


def chain(su: psycopg.Connection[Any], uh: bytes) -> list[tuple[Any, ...]]:
    """(event_id, action, success, metadata::text, created_at, prev_hash, row_hash) in order."""
    return su.execute(
        "SELECT event_id, action, success, metadata::text, created_at, prev_hash, row_hash"
        "  FROM zkeb.audit_logs WHERE user_hash = %s ORDER BY event_id",
        [uh],
    ).fetchall()


def count_rows(su: psycopg.Connection[Any], table: str) -> int:
    row = su.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def storage_drift(su: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """Users whose storage_used_bytes differs from the sum of their stored backups."""
    return su.execute(
        "SELECT u.user_id, u.storage_used_bytes, COALESCE(sum(b.size_bytes), 0)"
        "  FROM zkeb.users AS u LEFT JOIN zkeb.encrypted_backups AS b USING (user_id)"
        " GROUP BY u.user_id HAVING u.storage_used_bytes <> COALESCE(sum(b.size_bytes), 0)"
    ).fetchall()


def encode_event(uh: bytes, event_id: int, action: str, success: bool,
                 created_at: datetime, metadata_text: str) -> bytes:
    """The canonical encoding of docs/audit.md, written independently of the SQL."""
    micros = (created_at - EPOCH) // timedelta(microseconds=1)
    fields = ["zkeb-audit-v1", uh.hex(), str(event_id), action, "t" if success else "f",
              str(micros), metadata_text]
    return "|".join(fields).encode("utf-8")


def row_hash(prev_hash: bytes, uh: bytes, event_id: int, action: str, success: bool,
             created_at: datetime, metadata_text: str) -> bytes:
    """sha256(prev_hash || canonical encoding), per docs/audit.md."""
    return hashlib.sha256(
        prev_hash + encode_event(uh, event_id, action, success, created_at, metadata_text)
    ).digest()


def tamper(su: psycopg.Connection[Any], statement: str, params: Any = None) -> None:
    """Run ``statement`` the way a superuser would go around the append-only trigger."""
    with su.transaction():
        su.execute("SET LOCAL session_replication_role = replica")
        su.execute(statement, params)


def rehash_chain(su: psycopg.Connection[Any], uh: bytes, *, fix_head: bool = True) -> None:
    """Recompute every prev_hash/row_hash of a chain from its first event on (a forger's
    full rewrite), and, with ``fix_head``, the head stored on the account."""
    with su.transaction():
        su.execute("SET LOCAL session_replication_role = replica")
        su.execute(sql.SQL(
            """
            DO $$
            DECLARE
                _r record;
                _prev bytea;
                _uh bytea := decode({uh}, 'hex');
            BEGIN
                FOR _r IN SELECT * FROM zkeb.audit_logs WHERE user_hash = _uh ORDER BY event_id LOOP
                    IF _r.action = 'audit_retention_anchor' THEN
                        _prev := _r.row_hash;  -- an anchor stands for a purged event
                        CONTINUE;
                    END IF;
                    _prev := COALESCE(_prev, _r.prev_hash);
                    UPDATE zkeb.audit_logs
                       SET prev_hash = _prev,
                           row_hash = zkeb_private.audit_row_hash(_prev, _r.user_hash, _r.event_id,
                                          _r.action, _r.success, _r.created_at, _r.metadata)
                     WHERE user_hash = _uh AND event_id = _r.event_id
                    RETURNING row_hash INTO _prev;
                END LOOP;
            END
            $$
            """).format(uh=sql.Literal(uh.hex())))
        if fix_head:
            su.execute(
                "UPDATE zkeb.users AS u SET audit_event_id = l.event_id, audit_head = l.row_hash"
                "  FROM (SELECT event_id, row_hash FROM zkeb.audit_logs WHERE user_hash = %s"
                "         ORDER BY event_id DESC LIMIT 1) AS l"
                " WHERE zkeb_private.audit_user_hash(u.user_id) = %s",
                [uh, uh],
            )


def backdate(su: psycopg.Connection[Any], uh: bytes, through_event_id: int,
             age: timedelta) -> None:
    """Make events 1..through_event_id of a chain ``age`` old (one second apart, in order),
    with every hash recomputed and the account's head kept right: an honest old chain."""
    tamper(
        su,
        "UPDATE zkeb.audit_logs"
        "   SET created_at = now() - %s - (%s - event_id) * interval '1 second'"
        " WHERE user_hash = %s AND event_id <= %s",
        [age, through_event_id, uh, through_event_id],
    )
    rehash_chain(su, uh)


def shift_up(su: psycopg.Connection[Any], uh: bytes, from_event_id: int) -> None:
    """Renumber events >= from_event_id one position up (room for an inserted event)."""
    tamper(su, "UPDATE zkeb.audit_logs SET event_id = event_id + 1000000"
               " WHERE user_hash = %s AND event_id >= %s", [uh, from_event_id])
    tamper(su, "UPDATE zkeb.audit_logs SET event_id = event_id - 999999"
               " WHERE user_hash = %s AND event_id >= 1000000", [uh])


def verify(conn: psycopg.Connection[Any], checkpoint: Any = None) -> dict[str, Any]:
    """zkeb_maint.verify_audit_chain as a dict."""
    from psycopg.types.json import Jsonb

    cur = conn.execute(
        "SELECT * FROM zkeb_maint.verify_audit_chain(%s::jsonb)",
        [None if checkpoint is None else Jsonb(checkpoint)],
    )
    row = cur.fetchone()
    assert row is not None and cur.description is not None
    return {d.name: v for d, v in zip(cur.description, row, strict=True)}


def checkpoint(conn: psycopg.Connection[Any]) -> Any:
    """The export, as the JSON value an operator stores (jsonb_agg(to_jsonb(r)))."""
    row = conn.execute(
        "SELECT COALESCE(jsonb_agg(to_jsonb(r)), '[]') FROM zkeb_maint.export_audit_checkpoint() r"
    ).fetchone()
    assert row is not None
    return row[0]


def invariants(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT invariant, user_id, detail FROM zkeb_maint.check_invariants()"
    ).fetchall()
