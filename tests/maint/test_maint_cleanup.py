"""Batched cleanup: expired backups, trash, sessions; quota given back; workers never collide."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from zkeb_maint_testkit import (
    add_backup,
    add_backups,
    add_session,
    count_rows,
    invariants,
    make_account,
    storage_drift,
    user_hash,
    verify,
)

Conn = psycopg.Connection[Any]

NOW = datetime.now(UTC)
PAST = NOW - timedelta(hours=1)
FUTURE = NOW + timedelta(days=30)


def _system_events(su: Conn, action: str) -> list[dict[str, Any]]:
    rows = su.execute(
        "SELECT metadata FROM zkeb.audit_logs WHERE user_hash = %s AND action = %s"
        " ORDER BY event_id",
        [user_hash(su, None), action],
    ).fetchall()
    return [r[0] for r in rows]


def _used(su: Conn, user_id: Any) -> int:
    row = su.execute("SELECT storage_used_bytes FROM zkeb.users WHERE user_id = %s",
                     [user_id]).fetchone()
    assert row is not None
    return int(row[0])


def test_cleanup_deletes_expired_only_and_gives_quota_back(su: Conn, maint: Conn) -> None:
    a = make_account(su)
    b = make_account(su)
    keep_live = add_backup(su, a, 100)
    keep_future = add_backup(su, a, 200, expires_at=FUTURE)
    add_backup(su, a, 300, expires_at=PAST)
    add_backup(su, a, 400, expires_at=PAST, deleted_at=PAST)  # expired in the trash too
    add_backup(su, b, 50, expires_at=PAST)
    row = maint.execute("SELECT * FROM zkeb_maint.cleanup_expired_backups()").fetchone()
    assert row == (3, 750)
    assert _used(su, a.user_id) == 300
    assert _used(su, b.user_id) == 0
    left = {r[0] for r in su.execute("SELECT backup_id FROM zkeb.encrypted_backups")}
    assert left == {keep_live, keep_future}
    assert storage_drift(su) == []
    # The run is on the system chain, and the chain still verifies.
    assert _system_events(su, "maint_cleanup_expired") == [
        {"deleted_count": 3, "bytes_freed": 750, "batch_size": 10000}]
    assert verify(maint)["ok"] is True
    assert invariants(maint) == []
    # Nothing left: an empty run, logged as well.
    assert maint.execute("SELECT * FROM zkeb_maint.cleanup_expired_backups()").fetchone() == (0, 0)
    assert len(_system_events(su, "maint_cleanup_expired")) == 2


def test_cleanup_batches_are_bounded(su: Conn, maint: Conn) -> None:
    a = make_account(su)
    total = add_backups(su, a, 25, 10, expires_at=PAST)
    counts = []
    while True:
        row = maint.execute("SELECT * FROM zkeb_maint.cleanup_expired_backups(10)").fetchone()
        assert row is not None
        counts.append(row[0])
        if row[0] == 0:
            break
    assert counts == [10, 10, 5, 0]
    assert total == 250 and _used(su, a.user_id) == 0


@pytest.mark.parametrize("call", [
    "zkeb_maint.cleanup_expired_backups(0)",
    "zkeb_maint.cleanup_expired_backups(100001)",
    "zkeb_maint.cleanup_expired_backups(NULL)",
    "zkeb_maint.purge_trash(batch_size => 0)",
    "zkeb_maint.purge_trash(older_than => '-1 day')",
    "zkeb_maint.purge_expired_sessions(-5)",
    "zkeb_maint.purge_audit_logs(batch_size => 100001)",
    "zkeb_maint.purge_audit_logs(older_than => '23 hours')",
])
def test_bad_arguments_are_zk422_and_write_nothing(su: Conn, maint: Conn, call: str) -> None:
    a = make_account(su)
    add_backup(su, a, 10, expires_at=PAST)
    before = count_rows(su, "zkeb.audit_logs")
    with pytest.raises(psycopg.DatabaseError) as info:
        maint.execute(f"SELECT * FROM {call}")
    assert info.value.sqlstate == "ZK422"
    assert count_rows(su, "zkeb.audit_logs") == before
    assert count_rows(su, "zkeb.encrypted_backups") == 1


def test_purge_trash_uses_the_setting_unless_told(su: Conn, maint: Conn) -> None:
    a = make_account(su)
    add_backup(su, a, 100, deleted_at=NOW - timedelta(days=31))
    recent = add_backup(su, a, 200, deleted_at=NOW - timedelta(days=2))
    live = add_backup(su, a, 400)
    # The setting (30 days) wins when older_than is left out.
    assert maint.execute("SELECT * FROM zkeb_maint.purge_trash()").fetchone() == (1, 100)
    assert _used(su, a.user_id) == 600
    su.execute("UPDATE zkeb_private.settings SET trash_retention = '1 day'")
    assert maint.execute("SELECT * FROM zkeb_maint.purge_trash()").fetchone() == (1, 200)
    assert {r[0] for r in su.execute("SELECT backup_id FROM zkeb.encrypted_backups")} == {live}
    assert recent != live
    # An explicit argument wins over the setting.
    add_backup(su, a, 50, deleted_at=NOW - timedelta(hours=2))
    assert maint.execute(
        "SELECT * FROM zkeb_maint.purge_trash(older_than => '3 hours')").fetchone() == (0, 0)
    assert maint.execute(
        "SELECT * FROM zkeb_maint.purge_trash(older_than => '1 hour')").fetchone() == (1, 50)
    assert storage_drift(su) == []
    metas = _system_events(su, "maint_purge_trash")
    assert [m["older_than"] for m in metas] == ["30 days", "1 day", "03:00:00", "01:00:00"]


def test_purge_expired_sessions(su: Conn, maint: Conn) -> None:
    a = make_account(su)
    add_session(su, a, expires_at=PAST)
    add_session(su, a, expires_at=NOW - timedelta(days=3), with_device=False)
    valid = add_session(su, a, expires_at=FUTURE)
    assert maint.execute("SELECT * FROM zkeb_maint.purge_expired_sessions()").fetchone() == (2,)
    assert [r[0] for r in su.execute("SELECT token_hash FROM zkeb.sessions")] == [valid]
    assert _system_events(su, "maint_purge_sessions")[0]["deleted_count"] == 2


def test_two_workers_delete_each_expired_backup_once(db: Any, su: Conn) -> None:
    """Two maintenance connections run cleanup side by side until nothing is left."""
    accounts = [make_account(su) for _ in range(12)]
    expired_bytes = 0
    for i, acct in enumerate(accounts):
        expired_bytes += add_backups(su, acct, 60, 10 + i, expires_at=PAST)
        add_backups(su, acct, 5, 7)  # live ones stay
    expired = 12 * 60
    start = threading.Barrier(2)
    results: list[list[tuple[int, int]]] = [[], []]
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            conn = db.connect("maint")
            start.wait()
            while True:
                row = conn.execute(
                    "SELECT * FROM zkeb_maint.cleanup_expired_backups(25)").fetchone()
                results[k].append((int(row[0]), int(row[1])))
                if row[0] == 0:
                    break
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    # A final run finds nothing: whatever one worker skipped, the other took.
    final = db.connect("maint").execute(
        "SELECT * FROM zkeb_maint.cleanup_expired_backups()").fetchone()
    deleted = sum(n for runs in results for n, _ in runs) + final[0]
    freed = sum(b for runs in results for _, b in runs) + final[1]
    assert deleted == expired
    assert freed == expired_bytes
    assert count_rows(su, "zkeb.encrypted_backups") == 12 * 5
    assert storage_drift(su) == []
    for acct in accounts:
        assert _used(su, acct.user_id) == 5 * 7
    # Every batch of both workers is on the system chain, which still verifies.
    metas = _system_events(su, "maint_cleanup_expired")
    assert sum(m["deleted_count"] for m in metas) == expired
    assert len(metas) == len(results[0]) + len(results[1]) + 1
    assert verify(su)["ok"] is True
    assert invariants(su) == []


def test_cleanup_skips_locked_rows_instead_of_waiting(db: Any, su: Conn, maint: Conn) -> None:
    """A backup row or an account row held by another transaction is left for the next run;
    the run itself never waits (lock_timeout turns a wait into an error)."""
    a = make_account(su)
    b = make_account(su)
    c = make_account(su)
    held_backup = add_backup(su, a, 10, expires_at=PAST)
    add_backup(su, a, 20, expires_at=PAST)
    add_backup(su, b, 40, expires_at=PAST)
    add_backup(su, c, 80, expires_at=PAST)
    other = db.connect("super", autocommit=False)
    other.execute("SELECT 1 FROM zkeb.encrypted_backups WHERE backup_id = %s FOR UPDATE",
                  [held_backup])
    other.execute("SELECT 1 FROM zkeb.users WHERE user_id = %s FOR UPDATE", [b.user_id])
    maint.execute("SET lock_timeout = '20s'")
    row = maint.execute("SELECT * FROM zkeb_maint.cleanup_expired_backups()").fetchone()
    assert row == (2, 100)  # a's unheld backup and c's; b's account is busy
    other.rollback()
    row = maint.execute("SELECT * FROM zkeb_maint.cleanup_expired_backups()").fetchone()
    assert row == (2, 50)
    assert count_rows(su, "zkeb.encrypted_backups") == 0
    assert storage_drift(su) == []


def test_maintenance_needs_a_maintainer(su: Conn, auditor: Conn, app_conn: Conn) -> None:
    make_account(su)
    for conn in (auditor, app_conn):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM zkeb_maint.cleanup_expired_backups()")
