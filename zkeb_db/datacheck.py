"""The data checks: ``zkeb_maint.check_invariants()`` and ``zkeb_maint.verify_audit_chain()``.

The database checks itself (docs/audit.md); this module calls the two
functions, returns typed rows, and folds them into one list of
:class:`DataViolation` for ``zkeb-db check --data`` (:func:`run_data_checks`,
empty when the data is sound).

The connection must log in as a member of ``zkeb_maintainer`` (or a
superuser): ``check_invariants`` needs it, and ``verify_audit_chain`` /
``export_audit_checkpoint`` also accept ``zkeb_auditor``.  Each call runs in
its own transaction (a savepoint inside a caller's transaction), so the
functions work on autocommit and non-autocommit connections alike.

An audit checkpoint is the JSON array of ``export_audit_checkpoint()``'s
rows, bytea as ``"\\\\x..."`` hex text, exactly what
``SELECT jsonb_agg(to_jsonb(r)) FROM zkeb_maint.export_audit_checkpoint() r``
gives; :func:`checkpoint_to_json` and :func:`load_checkpoint` write and read
that form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from zkeb_db.errors import ZkebError, wrap_errors

__all__ = [
    "AUDIT_CHAIN_RULE",
    "UNAVAILABLE_RULE",
    "AuditChainReport",
    "CheckpointEntry",
    "DataViolation",
    "InvariantViolation",
    "check_invariants",
    "checkpoint_to_json",
    "export_audit_checkpoint",
    "load_checkpoint",
    "run_data_checks",
    "verify_audit_chain",
]

AUDIT_CHAIN_RULE = "audit_chain"
"""``DataViolation.rule`` of a chain that ``verify_audit_chain`` found broken."""

UNAVAILABLE_RULE = "unavailable"
"""``DataViolation.rule`` when a check could not run at all (which is a failure too)."""

_HEX32 = re.compile(r"^\\x[0-9a-fA-F]{64}$")


@dataclass(frozen=True, slots=True)
class InvariantViolation:
    """One row of ``zkeb_maint.check_invariants()``."""

    invariant: str
    user_id: UUID | None
    detail: str


@dataclass(frozen=True, slots=True)
class AuditChainReport:
    """The row of ``zkeb_maint.verify_audit_chain()``.

    ``first_bad_event_id`` is the position, in the chain ``first_bad_user_hash``,
    of the first event that fails (the first missing one for a gap).
    """

    ok: bool
    checked_count: int
    first_bad_event_id: int | None
    first_bad_user_hash: bytes | None
    bad_chain_count: int
    detail: str


@dataclass(frozen=True, slots=True)
class CheckpointEntry:
    """One row of ``zkeb_maint.export_audit_checkpoint()``: the head of one chain."""

    user_hash: bytes
    last_event_id: int
    last_row_hash: bytes

    def to_json(self) -> dict[str, Any]:
        """This entry as ``to_jsonb`` renders the row (bytea as ``\\x`` hex)."""
        return {
            "user_hash": "\\x" + self.user_hash.hex(),
            "last_event_id": self.last_event_id,
            "last_row_hash": "\\x" + self.last_row_hash.hex(),
        }


@dataclass(frozen=True, slots=True)
class DataViolation:
    """A failed data check, as ``zkeb-db check --data`` reports it.

    ``rule`` is the invariant name of ``check_invariants`` (such as
    ``storage_used_mismatch``), :data:`AUDIT_CHAIN_RULE`, or
    :data:`UNAVAILABLE_RULE`; ``object`` names what is wrong (an account id,
    a chain hash, or the function that could not run).
    """

    rule: str
    object: str
    detail: str
    user_id: UUID | None = None
    first_bad_event_id: int | None = None


def check_invariants(conn: psycopg.Connection[Any]) -> list[InvariantViolation]:
    """``zkeb_maint.check_invariants()``: one row per violation, none when healthy."""
    with wrap_errors(), conn.transaction():
        rows = conn.execute(
            "SELECT invariant, user_id, detail FROM zkeb_maint.check_invariants()"
        ).fetchall()
    return [InvariantViolation(str(r[0]), r[1], str(r[2])) for r in rows]


def verify_audit_chain(
    conn: psycopg.Connection[Any],
    checkpoint: Sequence[CheckpointEntry] | list[dict[str, Any]] | None = None,
) -> AuditChainReport:
    """``zkeb_maint.verify_audit_chain(checkpoint)``; writes nothing."""
    param = None if checkpoint is None else Jsonb(_checkpoint_items(checkpoint))
    with wrap_errors(), conn.transaction():
        row = conn.execute(
            "SELECT ok, checked_count, first_bad_event_id, first_bad_user_hash,"
            "       bad_chain_count, detail"
            "  FROM zkeb_maint.verify_audit_chain(%s::jsonb)",
            [param],
        ).fetchone()
    assert row is not None, "verify_audit_chain returns exactly one row"
    return AuditChainReport(
        ok=bool(row[0]),
        checked_count=int(row[1]),
        first_bad_event_id=None if row[2] is None else int(row[2]),
        first_bad_user_hash=None if row[3] is None else bytes(row[3]),
        bad_chain_count=int(row[4]),
        detail=str(row[5]),
    )


def export_audit_checkpoint(conn: psycopg.Connection[Any]) -> list[CheckpointEntry]:
    """``zkeb_maint.export_audit_checkpoint()``: the head of every chain, to keep outside."""
    with wrap_errors(), conn.transaction():
        rows = conn.execute(
            "SELECT user_hash, last_event_id, last_row_hash"
            "  FROM zkeb_maint.export_audit_checkpoint()"
        ).fetchall()
    return [CheckpointEntry(bytes(r[0]), int(r[1]), bytes(r[2])) for r in rows]


def checkpoint_to_json(entries: Iterable[CheckpointEntry]) -> str:
    """The checkpoint as the JSON array ``verify_audit_chain`` takes."""
    return json.dumps([e.to_json() for e in entries], indent=1)


def load_checkpoint(text: str) -> list[CheckpointEntry]:
    """Parse a checkpoint written by :func:`checkpoint_to_json` (or by ``jsonb_agg``).

    Raises :class:`ValueError` naming the first malformed entry.
    """
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("an audit checkpoint is a JSON array")
    entries: list[CheckpointEntry] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"checkpoint entry {i} is not an object")
        user_hash, last_id, last_hash = (
            item.get("user_hash"), item.get("last_event_id"), item.get("last_row_hash"))
        if not (isinstance(user_hash, str) and _HEX32.match(user_hash)
                and isinstance(last_hash, str) and _HEX32.match(last_hash)
                and isinstance(last_id, int) and not isinstance(last_id, bool) and last_id >= 1):
            raise ValueError(
                f"checkpoint entry {i} is not {{user_hash, last_event_id, last_row_hash}} "
                "with 32-byte \\x hex hashes and a positive event id"
            )
        entries.append(CheckpointEntry(
            bytes.fromhex(user_hash[2:]), last_id, bytes.fromhex(last_hash[2:])))
    return entries


def run_data_checks(
    conn: psycopg.Connection[Any],
    checkpoint: Sequence[CheckpointEntry] | None = None,
) -> list[DataViolation]:
    """Every data check; the violations found, an empty list when the data is sound.

    A check that cannot run (missing function, a login role without the
    right membership) is reported as a :data:`UNAVAILABLE_RULE` violation
    rather than raised, so the caller still sees the other checks.
    """
    violations: list[DataViolation] = []
    try:
        for v in check_invariants(conn):
            violations.append(DataViolation(
                v.invariant, "" if v.user_id is None else str(v.user_id), v.detail, v.user_id))
    except (psycopg.Error, ZkebError) as exc:
        violations.append(_unavailable("zkeb_maint.check_invariants()", exc))
    try:
        report = verify_audit_chain(conn, checkpoint)
    except (psycopg.Error, ZkebError) as exc:
        violations.append(_unavailable("zkeb_maint.verify_audit_chain()", exc))
    else:
        if not report.ok:
            chain = "" if report.first_bad_user_hash is None else report.first_bad_user_hash.hex()
            violations.append(DataViolation(
                AUDIT_CHAIN_RULE, f"chain {chain}", report.detail,
                first_bad_event_id=report.first_bad_event_id))
    return violations


def _unavailable(what: str, exc: BaseException) -> DataViolation:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DataViolation(UNAVAILABLE_RULE, what, f"could not run: {text}")


def _checkpoint_items(
    checkpoint: Sequence[CheckpointEntry] | list[dict[str, Any]],
) -> list[dict[str, Any]]:
    return [e.to_json() if isinstance(e, CheckpointEntry) else dict(e) for e in checkpoint]
