"""``zkeb-db maintain`` and :mod:`zkeb_db.datacheck` (what ``zkeb-db check --data`` runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from zkeb_maint_testkit import (
    add_backups,
    add_session,
    audit,
    backdate,
    count_rows,
    make_account,
    storage_drift,
    tamper,
    user_hash,
)

from zkeb_db import cli, datacheck

Conn = psycopg.Connection[Any]
NOW = datetime.now(UTC)


def test_maintain_runs_every_task_until_nothing_is_left(
        db: Any, su: Conn, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_account(su)
    add_backups(su, a, 23, 10, expires_at=NOW - timedelta(hours=1))
    add_backups(su, a, 9, 20, deleted_at=NOW - timedelta(days=40))
    add_backups(su, a, 4, 30)
    for _ in range(6):
        add_session(su, a, expires_at=NOW - timedelta(minutes=5))
    audit(su, a.user_id, "login_ok", 4)
    backdate(su, user_hash(su, a.user_id), 5, timedelta(days=3))
    rc = cli.main(["maintain", "--db", db.dsn_for("maint"), "--batch-size", "5",
                   "--audit-older-than", "2 days"])
    assert rc == 0
    assert count_rows(su, "zkeb.encrypted_backups") == 4
    assert count_rows(su, "zkeb.sessions") == 0
    assert storage_drift(su) == []
    runs = dict(su.execute(
        "SELECT action, count(*) FROM zkeb.audit_logs WHERE user_hash = %s GROUP BY action",
        [user_hash(su, None)]).fetchall())
    # Batches of 5 until one is not full: 23 -> 5 batches, 9 -> 2, 6 -> 2, 5 -> 2.
    assert runs == {"maint_cleanup_expired": 5, "maint_purge_trash": 2,
                    "maint_purge_sessions": 2, "maint_purge_audit": 2}
    summary = capsys.readouterr().err
    assert "expired-backups" in summary and "audit" in summary
    assert datacheck.run_data_checks(db.connect("maint")) == []


def test_maintain_reports_a_refusal_in_one_line(
        db: Any, su: Conn, capsys: pytest.CaptureFixture[str]) -> None:
    make_account(su)
    rc = cli.main(["maintain", "--db", db.dsn_for("maint"), "--task", "audit",
                   "--audit-older-than", "1 hour", "--quiet"])
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["zkeb-db maintain: older_than must be at least 1 day (ZK422)"]
    assert cli.main(["maintain", "--db", db.dsn_for("app"), "--quiet"]) == 1
    assert "permission denied" in capsys.readouterr().err


def test_maintain_max_batches(db: Any, su: Conn) -> None:
    a = make_account(su)
    add_backups(su, a, 12, 10, expires_at=NOW - timedelta(hours=1))
    rc = cli.main(["maintain", "--db", db.dsn_for("maint"), "--task", "expired-backups",
                   "--batch-size", "5", "--max-batches", "1", "--quiet"])
    assert rc == 0
    assert count_rows(su, "zkeb.encrypted_backups") == 7


def test_data_checks_report_violations(db: Any, su: Conn) -> None:
    a = make_account(su)
    audit(su, a.user_id, "login_ok", 3)
    maint = db.connect("maint")
    assert datacheck.check_invariants(maint) == []
    report = datacheck.verify_audit_chain(maint)
    assert report.ok and report.checked_count == 4 and report.first_bad_event_id is None
    saved = datacheck.export_audit_checkpoint(db.connect("auditor"))
    assert [e.last_event_id for e in saved] == [4]
    assert datacheck.load_checkpoint(datacheck.checkpoint_to_json(saved)) == saved

    su.execute("UPDATE zkeb.users SET storage_used_bytes = 5 WHERE user_id = %s", [a.user_id])
    uh = user_hash(su, a.user_id)
    tamper(su, "DELETE FROM zkeb.audit_logs WHERE user_hash = %s AND event_id >= 3", [uh])
    found = datacheck.run_data_checks(maint, saved)
    assert sorted((v.rule, v.object) for v in found) == [
        ("audit_chain", f"chain {uh.hex()}"),
        ("audit_chain_broken", str(a.user_id)),
        ("storage_used_mismatch", str(a.user_id)),
    ]
    chain_bad = next(v for v in found if v.rule == "audit_chain")
    assert chain_bad.first_bad_event_id == 3
    # Without the checkpoint the chain is consistent with itself; the account head is not.
    assert [v.rule for v in datacheck.run_data_checks(maint)] == [
        "audit_chain_broken", "storage_used_mismatch"]


def test_data_checks_that_cannot_run_are_failures(db: Any, su: Conn) -> None:
    make_account(su)
    found = datacheck.run_data_checks(db.connect("auditor"))
    assert [(v.rule, v.object) for v in found] == [
        ("unavailable", "zkeb_maint.check_invariants()")]
    found = datacheck.run_data_checks(db.connect("app"))
    assert [v.rule for v in found] == ["unavailable", "unavailable"]


def test_data_checks_inside_a_callers_transaction(db: Any, su: Conn) -> None:
    make_account(su)
    conn = db.connect("auditor", autocommit=False)
    conn.execute("SELECT 1")  # the caller's transaction is open
    assert len(datacheck.run_data_checks(conn)) == 1  # check_invariants refused
    # The refusal rolled back to a savepoint: the caller's transaction goes on.
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert conn.execute("SELECT 2").fetchone() == (2,)
    conn.rollback()


@pytest.mark.parametrize("text", [
    "{}",
    '[{"user_hash": "\\\\x00", "last_event_id": 1, "last_row_hash": "\\\\x00"}]',
    '[{"user_hash": "\\\\x' + "ab" * 32 + '", "last_event_id": true, "last_row_hash": "\\\\x'
    + "ab" * 32 + '"}]',
])
def test_load_checkpoint_rejects_malformed_files(text: str) -> None:
    with pytest.raises(ValueError):
        datacheck.load_checkpoint(text)
