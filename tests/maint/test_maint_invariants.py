"""check_invariants(): none when healthy, exactly the planted violation otherwise; set_quota."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from zkeb_maint_testkit import (
    add_backup,
    add_session,
    chain,
    invariants,
    make_account,
    storage_drift,
    user_hash,
    verify,
)

from zkeb_db.client import Client

Conn = psycopg.Connection[Any]
NOW = datetime.now(UTC)


def _healthy(su: Conn) -> tuple[Any, Any]:
    a = make_account(su)
    b = make_account(su)
    add_backup(su, a, 100)
    add_backup(su, a, 200, deleted_at=NOW)
    add_backup(su, b, 300, expires_at=NOW - timedelta(hours=1))  # expired, not yet cleaned
    add_session(su, a, expires_at=NOW + timedelta(hours=1))
    return a, b


def test_healthy_data_has_no_violation(su: Conn, maint: Conn) -> None:
    _healthy(su)
    assert invariants(maint) == []


def test_planted_storage_drift_is_exactly_one_violation(su: Conn, maint: Conn) -> None:
    a, _ = _healthy(su)
    su.execute("UPDATE zkeb.users SET storage_used_bytes = storage_used_bytes + 7"
               " WHERE user_id = %s", [a.user_id])
    found = invariants(maint)
    assert [(r[0], r[1]) for r in found] == [("storage_used_mismatch", a.user_id)]
    assert "307" in found[0][2] and "300" in found[0][2]


def test_usage_above_quota(su: Conn, maint: Conn) -> None:
    a, _ = _healthy(su)
    # The CHECK forbids it; a superuser can still get there.
    su.execute("ALTER TABLE zkeb.users DROP CONSTRAINT users_storage_used_bytes_check")
    su.execute("UPDATE zkeb.users SET storage_quota_bytes = 250 WHERE user_id = %s", [a.user_id])
    assert [(r[0], r[1]) for r in invariants(maint)] == [("storage_over_quota", a.user_id)]


def test_sync_heads_without_sibling_status(su: Conn, maint: Conn) -> None:
    a, _ = _healthy(su)
    entity, other = os.urandom(32), os.urandom(32)
    clock = f'{{"{a.device_id}": 1}}'
    for seq, (ent, sibling) in enumerate([(entity, False), (entity, False),
                                          (other, True), (other, True)], start=1):
        su.execute(
            "INSERT INTO zkeb.sync_metadata (user_id, entity_hash, device_id, vector_clock,"
            "   lamport, seq, is_sibling) VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s)",
            [a.user_id, ent, a.device_id, clock, seq, seq, sibling],
        )
    found = invariants(maint)
    assert [(r[0], r[1]) for r in found] == [("sync_multiple_heads", a.user_id)]
    assert entity.hex() in found[0][2]


def test_valid_session_of_a_revoked_device(su: Conn, maint: Conn) -> None:
    a, _ = _healthy(su)
    su.execute("UPDATE zkeb.devices SET revoked_at = now() WHERE user_id = %s", [a.user_id])
    found = invariants(maint)
    assert [(r[0], r[1]) for r in found] == [("revoked_device_session", a.user_id)]
    # Ended (or expired) sessions of the device are fine.
    su.execute("UPDATE zkeb.sessions SET revoked_at = now() WHERE user_id = %s", [a.user_id])
    assert invariants(maint) == []


def test_broken_audit_chain(su: Conn, maint: Conn) -> None:
    a, _ = _healthy(su)
    uh = user_hash(su, a.user_id)
    with su.transaction():
        su.execute("SET LOCAL session_replication_role = replica")
        su.execute("UPDATE zkeb.audit_logs SET success = false WHERE user_hash = %s", [uh])
    found = invariants(maint)
    assert [(r[0], r[1]) for r in found] == [("audit_chain_broken", a.user_id)]
    assert uh.hex() in found[0][2]


def test_check_invariants_is_for_maintainers_only(su: Conn, auditor: Conn, app_conn: Conn) -> None:
    _healthy(su)
    for conn in (auditor, app_conn):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            invariants(conn)


def test_set_quota(su: Conn, maint: Conn) -> None:
    a, _ = _healthy(su)  # a stores 300 bytes
    maint.execute("SELECT zkeb_maint.set_quota(%s, 300)", [a.user_id])
    row = su.execute("SELECT storage_quota_bytes FROM zkeb.users WHERE user_id = %s",
                     [a.user_id]).fetchone()
    assert row == (300,)
    last = chain(su, user_hash(su, a.user_id))[-1]
    assert (last[1], last[2]) == ("quota_set", True)
    assert '"storage_quota_bytes": 300' in last[3]
    assert '"previous_quota_bytes": 1000000000' in last[3]
    assert verify(maint)["ok"] is True
    assert invariants(maint) == []


@pytest.mark.parametrize(("quota", "code"), [(299, "ZK409"), (-1, "ZK422"), (None, "ZK422")])
def test_set_quota_refusals(su: Conn, maint: Conn, quota: int | None, code: str) -> None:
    a, _ = _healthy(su)
    before = su.execute("SELECT storage_quota_bytes, audit_event_id FROM zkeb.users"
                        " WHERE user_id = %s", [a.user_id]).fetchone()
    with pytest.raises(psycopg.DatabaseError) as info:
        maint.execute("SELECT zkeb_maint.set_quota(%s, %s::bigint)", [a.user_id, quota])
    assert info.value.sqlstate == code
    after = su.execute("SELECT storage_quota_bytes, audit_event_id FROM zkeb.users"
                       " WHERE user_id = %s", [a.user_id]).fetchone()
    assert after == before


def test_set_quota_of_an_unknown_account(su: Conn, maint: Conn) -> None:
    _healthy(su)
    with pytest.raises(psycopg.DatabaseError) as info:
        maint.execute("SELECT zkeb_maint.set_quota(%s, 10)", [uuid.uuid4()])
    assert info.value.sqlstate == "ZK404"


def test_any_mix_of_api_calls_and_maintenance_stays_consistent(
        db: Any, su: Conn, maint: Conn, auditor: Conn) -> None:
    """Create, trash, restore, purge, expiry and cleanup through the real API."""
    client = Client.connect(db.dsn_for("app"))
    try:
        sessions = []
        for _ in range(2):
            key = os.urandom(32)
            uname = os.urandom(32)
            client.register_user(uname, os.urandom(32), key, {"alg": "argon2id"})
            session = client.login(uname, key)
            device = session.register_device(os.urandom(32), os.urandom(32), "ed25519")
            sessions.append((session, device))
        ids: list[list[uuid.UUID]] = [[], []]
        for k, (session, device) in enumerate(sessions):
            for i in range(6):
                backup_id = uuid.uuid4()
                session.create_backup(backup_id, device, os.urandom(32), os.urandom(50 + i),
                                      os.urandom(12), os.urandom(16), os.urandom(64),
                                      expires_at=NOW + timedelta(days=1))
                ids[k].append(backup_id)
            session.delete_backup(ids[k][0])
            session.delete_backup(ids[k][1])
            session.restore_backup(ids[k][1])
            session.purge_backup(ids[k][2])
        # Two backups expire (the API only accepts future expiry: move it back).
        su.execute("UPDATE zkeb.encrypted_backups SET expires_at = now() - interval '1 minute'"
                   " WHERE backup_id = ANY(%s)", [[ids[0][3], ids[1][4]]])
        assert invariants(maint) == []
        assert maint.execute("SELECT deleted_count FROM zkeb_maint.cleanup_expired_backups()"
                             ).fetchone() == (2,)
        assert maint.execute("SELECT deleted_count FROM zkeb_maint.purge_trash(interval '0')"
                             ).fetchone() == (2,)
        maint.execute("SELECT zkeb_maint.set_quota(%s, 1000)", [sessions[0][0].whoami().user_id])
        sessions[1][0].logout()
        assert storage_drift(su) == []
        assert invariants(maint) == []
        assert verify(auditor)["ok"] is True
        assert sessions[0][0].storage_usage().backup_count == 3
    finally:
        client.close()
