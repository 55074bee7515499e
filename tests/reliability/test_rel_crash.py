"""Group 6: crash safety.

In the suite's private throwaway cluster (zkeb_db.embedded.EmbeddedPostgres,
the plan deployed into it; ``synchronous_commit`` stays on, as in production)
threads run creates (some to expire later), trash/restore, superuser expiry
and maintainer cleanup concurrently; midway the server is crashed, either by
``stop -m immediate`` (SIGQUIT to the postmaster, as ``pg_ctl stop -m
immediate``) or by SIGKILL of one busy backend (the postmaster then resets
every backend and recovers). After the restart:

- ``zkeb_maint.check_invariants()`` returns nothing and
  ``zkeb_maint.verify_audit_chain()`` is ok;
- every acknowledged create is present with its ciphertext and has its
  ``backup_create`` audit event (the ones we made expire may have been
  cleaned up: they must be present or gone, nothing else);
- every acknowledged trash/restore whose backup had no later call in flight
  left the backup in that state.

Negative control: the same checker, run on planted damage (an acknowledged
backup removed together with its bytes, a drifted ``storage_used_bytes``, an
edited audit row), reports each.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from privatepg import PrivateCluster, PrivateDb
from relkit import FIGURES, Tenant, invariant_violations, new_tenant

from zkeb_db.client import Client, Session
from zkeb_db.errors import ZkebError


@dataclass
class Ledger:
    """What the clients were told (acknowledged) before the crash."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    created: dict[uuid.UUID, tuple[uuid.UUID, bytes, bool]] = field(default_factory=dict)
    trash_state: dict[uuid.UUID, bool] = field(default_factory=dict)   # backup -> in trash
    in_flight: set[uuid.UUID] = field(default_factory=set)
    acks: int = 0
    stop: threading.Event = field(default_factory=threading.Event)


def wait_ready(db: PrivateDb, timeout: float = 120.0) -> None:
    """Poll until the server accepts connections again (readiness, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(db.dsn, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def workload(db: PrivateDb, tenants: list[Tenant], ledger: Ledger) -> list[threading.Thread]:
    def writer(t: Tenant, seed: int) -> None:
        rnd = random.Random(seed)
        try:
            session = Session(Client(db.connect("app")), t.token)
            while not ledger.stop.is_set():
                doomed = rnd.random() < 0.3
                args = t.backup_args(size=rnd.randint(16, 2048),
                                     expires_at=datetime.now(UTC) + timedelta(days=1)
                                     if doomed else None)
                try:
                    session.create_backup(**args)
                except ZkebError:
                    continue
                with ledger.lock:
                    ledger.created[args["backup_id"]] = (
                        t.user_id, hashlib.sha256(args["ciphertext"]).digest(), doomed)
                    ledger.acks += 1
        except psycopg.Error:
            return      # the server went away

    def trasher(seed: int) -> None:
        rnd = random.Random(seed)
        try:
            sessions = {t.user_id: Session(Client(db.connect("app")), t.token) for t in tenants}
            while not ledger.stop.is_set():
                with ledger.lock:
                    live = [(b, u) for b, (u, _, doomed) in ledger.created.items() if not doomed]
                if not live:
                    time.sleep(0.001)
                    continue
                bid, uid = rnd.choice(live)
                to_trash = not ledger.trash_state.get(bid, False)
                with ledger.lock:
                    ledger.in_flight.add(bid)
                try:
                    if to_trash:
                        sessions[uid].delete_backup(bid)
                    else:
                        sessions[uid].restore_backup(bid)
                except ZkebError:
                    continue
                with ledger.lock:
                    ledger.trash_state[bid] = to_trash
                    ledger.in_flight.discard(bid)
        except psycopg.Error:
            return

    def expirer() -> None:
        try:
            su = db.connect("super")
            while not ledger.stop.is_set():
                with ledger.lock:
                    doomed = [b for b, (_, _, d) in ledger.created.items() if d]
                if doomed:
                    su.execute("UPDATE zkeb.encrypted_backups SET expires_at = now() - "
                               "interval '1 second' WHERE backup_id = ANY(%s) AND "
                               "expires_at > now()", [doomed[-20:]])
                time.sleep(0.005)
        except psycopg.Error:
            return

    def cleaner() -> None:
        try:
            maint = db.connect("maint")
            while not ledger.stop.is_set():
                maint.execute("SELECT * FROM zkeb_maint.cleanup_expired_backups(batch_size => 7)")
        except psycopg.Error:
            return

    threads = [threading.Thread(target=writer, args=(t, k), daemon=True)
               for k, t in enumerate(tenants * 2)]
    threads += [threading.Thread(target=trasher, args=(99,), daemon=True),
                threading.Thread(target=expirer, daemon=True),
                threading.Thread(target=cleaner, daemon=True)]
    for th in threads:
        th.start()
    return threads


def crash_findings(db: PrivateDb, ledger: Ledger) -> list[str]:
    """Everything wrong with the database after the restart, given what was acknowledged."""
    findings: list[str] = []
    su, maint = db.connect("super"), db.connect("maint")
    violations = invariant_violations(maint)
    if violations:
        findings.append(f"check_invariants: {violations[:3]}")
    chain = maint.execute("SELECT ok, detail FROM zkeb_maint.verify_audit_chain()").fetchone()
    assert chain is not None
    ok, detail = chain
    if not ok:
        findings.append(f"verify_audit_chain: {detail}")
    rows = {r[0]: r[1:] for r in su.execute(
        "SELECT backup_id, user_id, sha256(ciphertext), deleted_at IS NOT NULL "
        "FROM zkeb.encrypted_backups").fetchall()}
    audited = {uuid.UUID(r[0]) for r in su.execute(
        "SELECT metadata ->> 'backup_id' FROM zkeb.audit_logs "
        "WHERE action = 'backup_create'").fetchall()}
    missing = wrong = unaudited = state = 0
    for bid, (uid, digest, doomed) in ledger.created.items():
        row = rows.get(bid)
        if bid not in audited:
            unaudited += 1
        if row is None:
            missing += 0 if doomed else 1
            continue
        if row[0] != uid or row[1] != digest:
            wrong += 1
        if bid in ledger.trash_state and bid not in ledger.in_flight \
                and row[2] != ledger.trash_state[bid]:
            state += 1
    if missing:
        findings.append(f"{missing} acknowledged creates are missing")
    if wrong:
        findings.append(f"{wrong} acknowledged creates changed owner or content")
    if unaudited:
        findings.append(f"{unaudited} acknowledged creates have no backup_create audit event")
    if state:
        findings.append(f"{state} acknowledged trash/restore calls were lost")
    FIGURES.add("crash", "acknowledged_creates_checked", len(ledger.created))
    FIGURES.add("crash", "acknowledged_creates_missing", missing)
    FIGURES.add("crash", "acknowledged_trash_restore_checked",
                len(set(ledger.trash_state) - ledger.in_flight))
    FIGURES.add("crash", "invariant_violations_after_restart", len(violations))
    return findings


def crash_run(cluster: PrivateCluster, how: str, acks_before_crash: int) -> tuple[
        PrivateDb, Ledger, list[str]]:
    db = cluster.clone("zkeb_rel_crash_")
    client = Client(db.connect("app"))
    tenants = [new_tenant(client, f"crash{k}") for k in range(3)]
    ledger = Ledger()
    threads = workload(db, tenants, ledger)
    deadline = time.monotonic() + 120
    while ledger.acks < acks_before_crash:    # progress poll; the crash comes midway
        assert time.monotonic() < deadline, "the workload made no progress"
        time.sleep(0.01)
    if how == "immediate":
        cluster.pg.stop("immediate")
        ledger.stop.set()
        cluster.pg.start()
    else:
        su = psycopg.connect(db.dsn, autocommit=True)
        pids = [r[0] for r in su.execute(
            "SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = %s "
            "AND pid <> pg_catalog.pg_backend_pid() AND backend_type = 'client backend' "
            "ORDER BY state = 'active' DESC", [db.name]).fetchall()]
        assert pids
        os.kill(pids[0], signal.SIGKILL)
        ledger.stop.set()
        with pytest.raises(psycopg.Error):   # the postmaster ends every backend
            su.execute("SELECT pg_catalog.pg_sleep(5)")
        su.close()
    for th in threads:
        th.join(60)
        assert not th.is_alive(), "a client thread hung after the crash"
    db.close_connections()
    wait_ready(db)
    FIGURES.add("crash", f"runs_{how}")
    FIGURES.add("crash", "runs")
    return db, ledger, crash_findings(db, ledger)


@pytest.mark.parametrize("how", ["immediate", "sigkill_backend"])
def test_crash_midway_loses_no_acknowledged_write(private_cluster: PrivateCluster, how: str,
                                                  request: pytest.FixtureRequest) -> None:
    runs = 3 if request.config.getoption("--slow") else 1
    for n in range(runs):
        db, ledger, findings = crash_run(private_cluster, how, acks_before_crash=120 + 60 * n)
        try:
            assert ledger.created, "nothing was acknowledged before the crash"
            assert findings == []
        finally:
            private_cluster.drop(db)


def test_negative_control_the_crash_checker_sees_planted_damage(
        private_cluster: PrivateCluster) -> None:
    db, ledger, findings = crash_run(private_cluster, "immediate", acks_before_crash=60)
    try:
        assert findings == []
        su = db.connect("super")
        kept = next(b for b, (_, _, doomed) in ledger.created.items() if not doomed)
        with FIGURES.negative_control():
            # 1. An acknowledged backup vanishes, its bytes given back (invariants hold).
            with su.transaction():
                gone = su.execute(
                    "DELETE FROM zkeb.encrypted_backups WHERE backup_id = %s "
                    "RETURNING size_bytes, user_id", [kept]).fetchone()
                assert gone is not None
                size, uid = gone
                su.execute("UPDATE zkeb.users SET storage_used_bytes = storage_used_bytes - %s "
                           "WHERE user_id = %s", [size, uid])
            lost = crash_findings(db, ledger)
            # 2. storage_used_bytes drifts.
            su.execute("UPDATE zkeb.users SET storage_used_bytes = storage_used_bytes + 1 "
                       "WHERE user_id = %s", [uid])
            drift = crash_findings(db, ledger)
            # 3. An audit row is edited behind the trigger's back.
            with su.transaction():
                su.execute("SET LOCAL session_replication_role = replica")
                su.execute("UPDATE zkeb.audit_logs SET success = NOT success WHERE ctid = "
                           "(SELECT ctid FROM zkeb.audit_logs WHERE action = 'backup_create' "
                           "LIMIT 1)")
            edited = crash_findings(db, ledger)
        detected = (any("missing" in f for f in lost)
                    and any("check_invariants" in f for f in drift)
                    and any("verify_audit_chain" in f for f in edited))
        FIGURES.control("crash: an acknowledged backup lost, a usage drift, an edited audit row",
                        detected, " / ".join(
                            next((f for f in found if key in f), "not seen") for found, key in (
                                (lost, "missing"), (drift, "check_invariants"),
                                (edited, "verify_audit_chain"))))
        assert detected, (lost, drift, edited)
    finally:
        private_cluster.drop(db)
