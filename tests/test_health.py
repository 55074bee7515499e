"""``zkeb-db health``: valid JSON with every field, real numbers, and a failing exit
status when the audit chain is broken."""

from __future__ import annotations

import json
import os
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from zkeb_db.cli import main

TOP_LEVEL = {
    "database",
    "server_version",
    "collected_at",
    "cache_hit_ratio",
    "cache",
    "hot_indexes",
    "indexes",
    "tables",
    "oldest_transaction",
    "maintenance_backlog",
    "audit_chain",
    "warnings",
    "errors",
    "skipped",
    "failures",
    "ok",
}
BACKLOG = {
    "expired_backups",
    "expired_backup_bytes",
    "expired_backups_oldest_seconds",
    "trash_past_retention",
    "trash_past_retention_bytes",
    "trash_past_retention_oldest_seconds",
    "expired_sessions",
    "expired_sessions_oldest_seconds",
    "audit_rows_past_retention",
    "audit_rows_past_retention_oldest_seconds",
    "trash_retention",
    "audit_retention",
}
TABLE_FIELDS = {"table", "table_bytes", "index_bytes", "total_bytes", "live_tuples",
                "dead_tuples", "dead_ratio", "last_vacuum"}


def health_json(dsn: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    rc = main(["health", "--db", dsn, "--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


def test_health_json_has_every_field(db: Any, capsys: pytest.CaptureFixture[str]) -> None:
    rc, report = health_json(db.dsn, capsys)
    assert rc == 0, report["failures"]
    assert set(report) >= TOP_LEVEL
    assert report["ok"] is True and report["errors"] == {} and report["skipped"] == {}
    assert report["database"] == db.name
    assert 0.0 <= report["cache_hit_ratio"] <= 1.0
    hot = {i["index"]: i for i in report["hot_indexes"]}
    assert hot["zkeb.encrypted_backups_list_idx"]["exists"] is True
    assert isinstance(hot["zkeb.encrypted_backups_list_idx"]["idx_scan"], int)
    assert all(i["exists"] for i in hot.values()), [n for n, i in hot.items() if not i["exists"]]
    tables = {t["table"]: t for t in report["tables"]}
    for name in ("zkeb.users", "zkeb.devices", "zkeb.sessions", "zkeb.encrypted_backups",
                 "zkeb.recovery_shares", "zkeb.sync_metadata", "zkeb.audit_logs"):
        assert set(tables[name]) >= TABLE_FIELDS, name
        assert tables[name]["total_bytes"] >= tables[name]["table_bytes"] > 0
    assert {"age_seconds", "pid", "xmin_age", "open_transactions"} <= set(
        report["oldest_transaction"])
    assert set(report["maintenance_backlog"]) >= BACKLOG
    assert report["maintenance_backlog"]["expired_backups"] == 0
    assert report["audit_chain"]["ok"] is True


def test_health_counts_what_waits_for_maintenance(
    db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Planted directly as the superuser: one user with an expired backup, a backup in
    # the trash for 40 days, a live one, and an expired session.
    uid = "00000000-0000-4000-8000-000000000001"
    dev = "00000000-0000-4000-8000-000000000002"
    conn = db.connect()
    conn.execute(
        "INSERT INTO zkeb.users (user_id, username_hash, auth_salt, auth_verifier, kdf_params,"
        " storage_quota_bytes, storage_used_bytes) VALUES (%s, %s, %s, %s, %s, 100000, 600)",
        [uid, os.urandom(32), os.urandom(32), os.urandom(32), Jsonb({"alg": "scrypt"})],
    )
    conn.execute(
        "INSERT INTO zkeb.devices (user_id, device_id, device_id_hash, key_algorithm, public_key)"
        " VALUES (%s, %s, %s, 'ed25519', %s)",
        [uid, dev, os.urandom(32), os.urandom(32)],
    )
    for size, created, expires, deleted in (
        (100, "2 days", "1 hour", None),
        (200, "50 days", None, "40 days"),
        (300, "1 day", None, None),
    ):
        conn.execute(
            "INSERT INTO zkeb.encrypted_backups (user_id, backup_id, device_id, backup_name_hash,"
            " ciphertext, nonce, auth_tag, signature, key_algorithm, size_bytes, created_at,"
            " expires_at, deleted_at) VALUES (%s, gen_random_uuid(), %s, %s, %s, %s, %s, %s,"
            " 'ed25519', %s, now() - %s::interval, now() - %s::interval, now() - %s::interval)",
            [uid, dev, os.urandom(32), os.urandom(size), os.urandom(12), os.urandom(16),
             os.urandom(64), size, created, expires, deleted],
        )
    conn.execute(
        "INSERT INTO zkeb.sessions (user_id, token_hash, created_at, expires_at)"
        " VALUES (%s, %s, now() - interval '2 hours', now() - interval '1 hour')",
        [uid, os.urandom(32)],
    )
    rc, report = health_json(db.dsn, capsys)
    backlog = report["maintenance_backlog"]
    assert (backlog["expired_backups"], backlog["expired_backup_bytes"]) == (1, 100)
    assert (backlog["trash_past_retention"], backlog["trash_past_retention_bytes"]) == (1, 200)
    assert backlog["expired_sessions"] == 1
    assert 3000 < backlog["expired_backups_oldest_seconds"] < 86400
    assert 9 * 86400 < backlog["trash_past_retention_oldest_seconds"] < 11 * 86400
    tables = {t["table"]: t for t in report["tables"]}
    assert rc == 0 and tables["zkeb.encrypted_backups"]["table_bytes"] > 0


def test_health_fails_on_a_broken_audit_chain(
    db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    app = db.connect("app")
    app.execute(
        "SELECT * FROM zkeb_api.register_user(%s, %s, %s, %s)",
        [os.urandom(32), os.urandom(32), os.urandom(32), Jsonb({"alg": "scrypt"})],
    )
    rc, report = health_json(db.dsn, capsys)
    assert rc == 0 and report["audit_chain"]["ok"] is True
    assert report["audit_chain"]["checked_count"] >= 1
    with psycopg.connect(db.dsn, autocommit=True) as conn, conn.transaction():
        conn.execute("ALTER TABLE zkeb.audit_logs DISABLE TRIGGER USER")
        conn.execute("UPDATE zkeb.audit_logs SET success = NOT success")
        conn.execute("ALTER TABLE zkeb.audit_logs ENABLE TRIGGER USER")
    rc, report = health_json(db.dsn, capsys)
    assert rc == 1
    assert report["ok"] is False and report["audit_chain"]["ok"] is False
    assert any("audit chain" in f for f in report["failures"])


def test_health_as_a_monitoring_role_skips_what_it_may_not_read(
    db: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # The test app role can read no table and no maintenance function: the backlog
    # is skipped (not a failure), the audit chain cannot be verified (a failure).
    rc, report = health_json(db.dsn_for("app"), capsys)
    assert set(report["skipped"]) >= {"maintenance_backlog"}
    assert report["maintenance_backlog"] is None
    assert "audit_chain" in report["errors"] and rc == 1
    assert report["cache_hit_ratio"] is not None and report["tables"]


def test_health_text_output(db: Any, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    rc = main(["health", "--db", db.dsn])
    out = capsys.readouterr().out
    assert rc == 0
    assert "cache hit ratio" in out and "zkeb.encrypted_backups_list_idx" in out
    assert "audit chain: ok" in out
