"""Group 2: concurrency with real connections (one connection per thread).

- 52 writers against one user whose quota fits exactly N backups: exactly N
  succeed, the rest get ZK413, ``storage_used_bytes`` equals the sum and a
  superuser poller never sees it above the quota;
- the same create retried at once from several connections with room for one:
  charged once, every other attempt answers ``replayed``;
- ``revoke_device`` racing creates from that device: no create commits after
  the revoke commits. The witness is the tenant's audit chain: each event's
  position is taken under the account row lock, which both calls hold until
  they commit, so chain order is commit order. Also: every create *sent*
  after the revoke was acknowledged is refused;
- concurrent ``sync_push`` from several devices while a reader pages by
  ``seq``: per connection and in real time (acknowledged before sent) ``seq``
  increases, and the reader has seen every final head at its final ``seq``.

Each race is a function returning its findings (empty when correct); the
negative controls run the same race against a planted bug and assert the
findings are not empty.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from relkit import (
    FIGURES,
    Outcome,
    Tenant,
    function_source,
    h,
    invariant_violations,
    new_tenant,
    outcome,
    planted,
    stored_bytes,
    used_bytes,
)

from zkeb_db.client import Client, Session

WRITERS = 52
CREATE = ("zkeb_api.create_backup(bytea, uuid, uuid, bytea, bytea, bytea, bytea, bytea, "
          "timestamptz)")
SYNC_PUSH = "zkeb_api.sync_push(bytea, bytea, uuid, jsonb, bigint, bytea)"


class Clock:
    """A logical clock shared by the threads of one race (send/ack ordering)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = itertools.count(1)

    def tick(self) -> int:
        with self._lock:
            return next(self._count)


def run_threads(targets: list[Any], timeout: float = 120.0) -> None:
    errors: list[BaseException] = []

    def wrap(fn: Any) -> Any:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # re-raised in the test thread
                errors.append(exc)
        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a racing thread did not finish"
    if errors:
        raise errors[0]


def connections(db: Any, n: int) -> list[psycopg.Connection[Any]]:
    """``n`` application connections for one race (``close_all`` them when it ends; the
    fixture closes whatever a failing race leaves)."""
    conns = []
    for _ in range(n):
        try:
            conns.append(db.connect("app"))
        except psycopg.OperationalError as exc:
            pytest.fail(f"could not open {n} connections for the race (server "
                        f"max_connections too low or exhausted by other clients): {exc}")
    return conns


def close_all(conns: list[psycopg.Connection[Any]]) -> None:
    for conn in conns:
        conn.close()


def setup_tenant(db: Any, label: str) -> tuple[Tenant, psycopg.Connection[Any],
                                                 psycopg.Connection[Any]]:
    app = db.connect("app")
    tenant = new_tenant(Client(app), label)
    return tenant, db.connect("super"), db.connect("maint")


# --------------------------------------------------------------------------
# Quota race
# --------------------------------------------------------------------------


def quota_race(db: Any, label: str, *, writers: int, fits: int, size: int,
               fig: str = "concurrency") -> list[str]:
    tenant, su, maint = setup_tenant(db, label)
    quota = fits * size
    maint.execute("SELECT zkeb_maint.set_quota(%s, %s)", [tenant.user_id, quota])
    conns = connections(db, writers)
    barrier = threading.Barrier(writers)
    results: list[Outcome | None] = [None] * writers
    done = threading.Event()
    seen: list[int] = []

    def writer(k: int) -> Any:
        def run() -> None:
            session = Session(Client(conns[k]), tenant.token)
            args = tenant.backup_args(size=size)
            barrier.wait()
            results[k] = outcome(session.create_backup, **args)
        return run

    def poller() -> None:
        poll = db.connect("super")
        while not done.is_set():
            seen.append(used_bytes(poll, tenant.user_id))

    watch = threading.Thread(target=poller, daemon=True)
    watch.start()
    try:
        run_threads([writer(k) for k in range(writers)])
    finally:
        done.set()
        watch.join(30)
    seen.append(used_bytes(su, tenant.user_id))
    oks = [r for r in results if r is not None and r.ok]
    codes = sorted({r.sqlstate or "?" for r in results if r is not None and not r.ok})
    used, stored = used_bytes(su, tenant.user_id), stored_bytes(su, tenant.user_id)
    FIGURES.add(f"{fig}_quota", "races")
    FIGURES.add(f"{fig}_quota", "writers", writers)
    FIGURES.add(f"{fig}_quota", "creates_succeeded", len(oks))
    FIGURES.add(f"{fig}_quota", "creates_refused_zk413",
                sum(1 for r in results if r is not None and r.sqlstate == "ZK413"))
    FIGURES.add(f"{fig}_quota", "usage_polls", len(seen))
    FIGURES.maximum(f"{fig}_quota", "max_overshoot_bytes", max(seen) - quota)
    findings = []
    if len(oks) != fits:
        findings.append(f"{len(oks)} creates succeeded, quota fits exactly {fits}")
    if codes not in ([], ["ZK413"]):
        findings.append(f"refused creates answered {codes}, expected only ZK413")
    if used != stored or used != len(oks) * size:
        findings.append(f"storage_used_bytes {used}, stored {stored}, acknowledged "
                        f"{len(oks) * size}")
    if max(seen) > quota:
        findings.append(f"storage_used_bytes reached {max(seen)} above the quota {quota}")
    if invariant_violations(maint):
        findings.append(f"check_invariants: {invariant_violations(maint)}")
    close_all(conns)
    return findings


def test_quota_race_exactly_n_of_52_writers_succeed(pdb: Any, request: pytest.FixtureRequest
                                                    ) -> None:
    rounds = 5 if request.config.getoption("--slow") else 2
    for r, (fits, size) in zip(range(rounds), itertools.cycle([(20, 1000), (7, 333)]),
                               strict=False):
        assert quota_race(pdb, f"quota{r}", writers=WRITERS, fits=fits, size=size) == []


def test_negative_control_quota_race_catches_a_lost_update(pdb: Any) -> None:
    su = pdb.connect("super")
    # Read-then-write: usage read without the row lock, written back as read + size.
    with planted(su, CREATE, [
        {   # the account row locked FOR UPDATE, then one UPDATE with the audit head
            "FROM zkeb.users AS u WHERE u.user_id = _uid FOR UPDATE;":
                "FROM zkeb.users AS u WHERE u.user_id = _uid; "
                "PERFORM pg_catalog.pg_sleep(0.02);",
            "SET storage_used_bytes = u.storage_used_bytes + _size":
                "SET storage_used_bytes = _used + _size",
            # the device row lock would serialise same-device creates on its own
            "AND d.device_id = create_backup.device_id FOR NO KEY UPDATE;":
                "AND d.device_id = create_backup.device_id;",
        },
        {   # one conditional UPDATE
            "UPDATE zkeb.users AS u SET storage_used_bytes = u.storage_used_bytes + _size":
                "SELECT x.storage_used_bytes INTO _used FROM zkeb.users AS x "
                "WHERE x.user_id = _uid; PERFORM pg_catalog.pg_sleep(0.02); "
                "UPDATE zkeb.users AS u SET storage_used_bytes = _used + _size",
        },
    ]):
        findings = quota_race(pdb, "quota-bug", writers=WRITERS, fits=20, size=1000)
    FIGURES.control("concurrency: create_backup reads usage, then writes usage + size "
                    "(lost update)", bool(findings), "; ".join(findings) or "no finding")
    assert findings


# --------------------------------------------------------------------------
# The same create retried concurrently
# --------------------------------------------------------------------------


def retry_race(db: Any, label: str, *, attempts: int, rounds: int, size: int = 500,
               fig: str = "concurrency") -> list[str]:
    tenant, su, maint = setup_tenant(db, label)
    conns = connections(db, attempts)
    findings: list[str] = []
    for r in range(rounds):
        before = used_bytes(su, tenant.user_id)
        # Room for exactly one copy.
        maint.execute("SELECT zkeb_maint.set_quota(%s, %s)", [tenant.user_id, before + size])
        args = tenant.backup_args(size=size)
        barrier = threading.Barrier(attempts)
        results: list[Outcome | None] = [None] * attempts

        def attempt(k: int, args: dict[str, Any] = args, barrier: Any = barrier,
                    results: list[Outcome | None] = results) -> Any:
            def run() -> None:
                session = Session(Client(conns[k]), tenant.token)
                barrier.wait()
                results[k] = outcome(session.create_backup, **args)
            return run

        run_threads([attempt(k) for k in range(attempts)])
        after = used_bytes(su, tenant.user_id)
        charged = (after - before) // size
        FIGURES.add(f"{fig}_retry", "rounds")
        FIGURES.add(f"{fig}_retry", "attempts", attempts)
        FIGURES.add(f"{fig}_retry", "double_charges", max(charged - 1, 0))
        oks = [x for x in results if x is not None and x.ok]
        FIGURES.add(f"{fig}_retry", "answered_replayed",
                    sum(1 for x in oks if x.value.replayed))
        if len(oks) != attempts:
            findings.append(f"round {r}: {[x for x in results if x is None or not x.ok]}")
            continue
        if sorted(x.value.replayed for x in oks) != [False] + [True] * (attempts - 1):
            findings.append(f"round {r}: replayed flags {[x.value.replayed for x in oks]}")
        if len({x.value.created_at for x in oks}) != 1:
            findings.append(f"round {r}: answers disagree on created_at")
        if after != before + size or stored_bytes(su, tenant.user_id) != after:
            findings.append(f"round {r}: charged {after - before} bytes for one {size}-byte "
                            f"backup")
        if any(x.value.storage_used_bytes != after for x in oks):
            findings.append(f"round {r}: an answer reported another storage_used_bytes")
    if invariant_violations(maint):
        findings.append(f"check_invariants: {invariant_violations(maint)}")
    close_all(conns)
    return findings


def test_same_create_retried_concurrently_charges_once(pdb: Any,
                                                        request: pytest.FixtureRequest) -> None:
    rounds = 40 if request.config.getoption("--slow") else 10
    assert retry_race(pdb, "retry", attempts=8, rounds=rounds) == []


def test_negative_control_retry_race_catches_a_double_charge(pdb: Any) -> None:
    su = pdb.connect("super")
    with planted(su, CREATE, {
        "_inserted := _created IS NOT NULL;": "_inserted := true;",
        "INSERT INTO zkeb.encrypted_backups AS b":
            "PERFORM pg_catalog.pg_sleep(0.05); INSERT INTO zkeb.encrypted_backups AS b",
    }):
        findings = retry_race(pdb, "retry-bug", attempts=4, rounds=2)
    FIGURES.control("concurrency: create_backup treats a conflicting retry as a new insert",
                    bool(findings), "; ".join(findings)[:300] or "no finding")
    assert findings


# --------------------------------------------------------------------------
# revoke_device racing creates from that device
# --------------------------------------------------------------------------


@dataclass
class Call:
    sent: int
    acked: int = 0
    result: Outcome | None = None
    backup_id: uuid.UUID | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RevokeRace:
    findings: list[str]
    overtook: int   # creates sent after the revoke was sent that still committed before it


def revoke_race(db: Any, label: str, *, writers: int, revoke_after: int,
                per_writer: int = 40, fig: str = "concurrency") -> RevokeRace:
    tenant, su, maint = setup_tenant(db, label)
    assert tenant.device_id is not None
    # The writers' session is not bound to the device, so after the revoke they are
    # refused because of the device (ZK403), not because their session ended.
    revoker = Session(Client(db.connect("app")), tenant.token)
    conns = connections(db, writers)
    clock = Clock()
    calls: list[Call] = []
    calls_lock = threading.Lock()
    acked_ok = threading.Semaphore(0)
    revoke = Call(sent=0)

    def writer(k: int) -> Any:
        def run() -> None:
            session = Session(Client(conns[k]), tenant.token)
            sent_after_revoke = 0
            for _ in range(per_writer):
                args = tenant.backup_args(size=32)
                call = Call(sent=clock.tick(), backup_id=args["backup_id"])
                call.result = outcome(session.create_backup, **args)
                call.acked = clock.tick()
                with calls_lock:
                    calls.append(call)
                if call.result.ok:
                    acked_ok.release()
                # Keep writing until two creates were sent after the revoke was acknowledged.
                if revoke.acked and call.sent > revoke.acked:
                    sent_after_revoke += 1
                    if sent_after_revoke >= 2:
                        return
        return run

    def revoker_thread() -> None:
        for _ in range(revoke_after):
            acked_ok.acquire(timeout=60)
        revoke.sent = clock.tick()
        revoke.result = outcome(revoker.revoke_device, tenant.device_id)
        revoke.acked = clock.tick()

    run_threads([*(writer(k) for k in range(writers)), revoker_thread])
    findings: list[str] = []
    assert revoke.result is not None and revoke.result.ok, revoke.result
    # 1. Every create sent after the revoke was acknowledged was refused (ZK403).
    late = [c for c in calls if c.sent > revoke.acked and c.result is not None and c.result.ok]
    FIGURES.add(f"{fig}_revoke", "creates_sent_after_revoke_acknowledged_that_succeeded",
                len(late))
    if late:
        findings.append(f"{len(late)} creates sent after the revoke was acknowledged succeeded")
    # 2. Commit order, from the tenant's audit chain (positions taken under the account row
    #    lock held until commit): no backup_create after the device_revoke.
    chain = su.execute(
        "SELECT l.event_id, l.action, l.metadata ->> 'backup_id' FROM zkeb.audit_logs AS l "
        "WHERE l.user_hash = zkeb_private.audit_user_hash(%s) ORDER BY l.event_id",
        [tenant.user_id]).fetchall()
    revoked_at = [e for e, action, _ in chain if action == "device_revoke"]
    if len(revoked_at) != 1:
        findings.append(f"{len(revoked_at)} device_revoke events")
    else:
        after = [b for e, action, b in chain if action == "backup_create" and e > revoked_at[0]]
        FIGURES.add(f"{fig}_revoke", "creates_committed_after_revoke", len(after))
        if after:
            findings.append(f"{len(after)} creates committed after the revoke committed "
                            f"(audit chain order)")
    # 3. Every acknowledged create is stored and audited; nothing else is.
    acked = {c.backup_id for c in calls if c.result is not None and c.result.ok}
    stored = {r[0] for r in su.execute(
        "SELECT backup_id FROM zkeb.encrypted_backups WHERE user_id = %s",
        [tenant.user_id]).fetchall()}
    audited = {uuid.UUID(b) for _, action, b in chain if action == "backup_create"}
    if not (acked == stored == audited):
        findings.append(f"acknowledged {len(acked)}, stored {len(stored)}, audited "
                        f"{len(audited)} creates")
    refused = [c for c in calls if c.result is not None and not c.result.ok]
    if any(c.result.sqlstate != "ZK403" for c in refused if c.result is not None):
        findings.append(f"refusals other than ZK403: "
                        f"{sorted({str(c.result.sqlstate) for c in refused if c.result})}")
    FIGURES.add(f"{fig}_revoke", "races")
    FIGURES.add(f"{fig}_revoke", "creates_acknowledged", len(acked))
    FIGURES.add(f"{fig}_revoke", "creates_refused_after_revoke", len(refused))
    FIGURES.add(f"{fig}_revoke", "creates_in_flight_during_revoke",
                sum(1 for c in calls if c.sent < revoke.acked and c.acked > revoke.sent))
    # Creates that started after the revoke had been sent and still got in before it.
    overtook = sum(1 for c in calls
                   if c.sent > revoke.sent and c.result is not None and c.result.ok)
    FIGURES.add(f"{fig}_revoke", "creates_sent_after_revoke_sent_that_overtook_it",
                overtook)
    FIGURES.maximum(f"{fig}_revoke", "max_overtaking_creates_in_one_race", overtook)
    if invariant_violations(maint):
        findings.append(f"check_invariants: {invariant_violations(maint)}")
    close_all(conns)
    return RevokeRace(findings, overtook)


def test_no_create_commits_after_revoke_device(pdb: Any, request: pytest.FixtureRequest) -> None:
    rounds = 8 if request.config.getoption("--slow") else 3
    for r in range(rounds):
        assert revoke_race(pdb, f"revoke{r}", writers=8, revoke_after=20).findings == []


def wait_until_waiting(su: psycopg.Connection[Any], pid: int, timeout: float = 30.0) -> None:
    """Poll until backend ``pid`` waits on a lock (readiness, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = su.execute("SELECT wait_event_type FROM pg_catalog.pg_stat_activity "
                         "WHERE pid = %s", [pid]).fetchone()
        if row is not None and row[0] == "Lock":
            return
        time.sleep(0.005)
    raise AssertionError(f"backend {pid} never waited on a lock")


def queue_jump(db: Any, label: str, action: str) -> Outcome:
    """A create holds the device (its transaction left open); ``action`` (revoke_device or
    delete_account) is sent and waits for it; then a second create is sent and waits too.
    The first create commits. With fair row locks the second create queues behind the
    action and is refused; if it can take the device lock past the waiting action it
    commits first. Returns the second create's outcome. No timing is asserted: the steps
    are ordered by polling pg_stat_activity until each call is blocked."""
    tenant, su, _ = setup_tenant(db, label)
    assert tenant.device_id is not None
    first, actor, second = (db.connect("app") for _ in range(3))
    first.execute("BEGIN")
    Session(Client(first), tenant.token).create_backup(**tenant.backup_args(size=16))
    results: dict[str, Outcome] = {}

    def act() -> None:
        s = Session(Client(actor), tenant.token)
        results["action"] = outcome(
            s.revoke_device if action == "revoke_device" else s.delete_account,
            *([tenant.device_id] if action == "revoke_device" else []))

    def create() -> None:
        results["second"] = outcome(Session(Client(second), tenant.token).create_backup,
                                    **tenant.backup_args(size=16))

    t_act = threading.Thread(target=act, daemon=True)
    t_act.start()
    wait_until_waiting(su, actor.info.backend_pid)
    t_create = threading.Thread(target=create, daemon=True)
    t_create.start()
    wait_until_waiting(su, second.info.backend_pid)
    first.execute("COMMIT")
    for t in (t_act, t_create):
        t.join(60)
        assert not t.is_alive()
    assert results["action"].ok, results["action"]
    FIGURES.add("fairness", f"{action}_queue_jump_races")
    FIGURES.add("fairness", f"{action}_creates_that_jumped_the_queue",
                int(results["second"].ok))
    return results["second"]


@pytest.mark.parametrize("action", ["revoke_device", "delete_account"])
def test_revocation_and_erasure_are_not_overtaken_by_later_uploads(pdb: Any,
                                                                   action: str) -> None:
    second = queue_jump(pdb, f"queue-{action}", action)
    assert not second.ok, (
        f"a create sent while {action} was waiting committed before it: {second}")


def test_negative_control_revoke_race_catches_an_unlocked_device_check(pdb: Any) -> None:
    su = pdb.connect("super")
    # The device is read without its row lock, and the create dawdles after the check.
    # (FOR SHARE today; FOR NO KEY UPDATE once the starvation fix below is applied.)
    lock = "FOR SHARE;" if "FOR SHARE;" in function_source(su, CREATE) else "FOR NO KEY UPDATE;"
    with planted(su, CREATE, {lock: "; PERFORM pg_catalog.pg_sleep(0.05);"}):
        findings = revoke_race(pdb, "revoke-bug", writers=8, revoke_after=10).findings
    FIGURES.control("concurrency: create_backup checks the device without locking it",
                    bool(findings), "; ".join(findings) or "no finding")
    assert findings


# --------------------------------------------------------------------------
# Concurrent sync_push with a reader paging by seq
# --------------------------------------------------------------------------


def sync_race(db: Any, label: str, *, devices: int, pushes: int, shared: bool,
              fresh_entities: bool = False, fig: str = "concurrency") -> list[str]:
    app = db.connect("app")
    client = Client(app)
    tenant = new_tenant(client, label, device=False)
    su, maint = db.connect("super"), db.connect("maint")
    device_ids = [tenant.session.register_device(h(f"{label}-dev{k}"), bytes(32), "ed25519")
                  for k in range(devices)]
    conns = connections(db, devices)
    reader = Session(Client(db.connect("app")), tenant.token)
    clock = Clock()
    pushed: list[Call] = []
    lock = threading.Lock()
    seen: dict[int, tuple[Any, ...]] = {}
    done = threading.Event()
    reader_pages = 0

    def writer(k: int) -> Any:
        def run() -> None:
            session = Session(Client(conns[k]), tenant.token)
            dev = device_ids[k]
            for n in range(1, pushes + 1):
                if fresh_entities:
                    entity = h(f"{label}-d{k}-e{n}")
                elif shared and n % 3 == 0:
                    entity = h(f"{label}-shared")
                else:
                    entity = h(f"{label}-d{k}-e{n % 4}")
                call = Call(sent=clock.tick(), extra={"device": dev, "lamport": n,
                                                      "entity": entity})
                call.result = outcome(session.sync_push, entity, dev, {str(dev): n}, n,
                                      f"{k}:{n}".encode())
                call.acked = clock.tick()
                with lock:
                    pushed.append(call)
        return run

    def read() -> None:
        nonlocal reader_pages
        cursor = 0
        while True:
            finished = done.is_set()
            page = reader.sync_pull(after_seq=cursor, page_size=5)
            reader_pages += 1
            for row in page:
                seen[row.seq] = (row.entity_hash, row.device_id, row.lamport, row.payload)
                assert row.seq > cursor
                cursor = row.seq
            if finished and not page:
                return

    rt = threading.Thread(target=read, daemon=True)
    rt.start()
    try:
        run_threads([writer(k) for k in range(devices)])
    finally:
        done.set()
        rt.join(60)
    findings: list[str] = []
    bad = [c for c in pushed if c.result is None or not c.result.ok]
    if bad:
        findings.append(f"{len(bad)} pushes failed: {bad[:3]}")
    new_rows = [c for c in pushed if c.result is not None and c.result.ok
                and c.result.value.status in ("applied", "conflict")]
    # seq increases along each connection and in real time.
    for dev in device_ids:
        seqs = [c.result.value.seq for c in sorted(new_rows, key=lambda c: c.sent)
                if c.extra["device"] == dev and c.result is not None]
        if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
            findings.append(f"seq not increasing along one connection: {seqs}")
    by_ack = sorted(new_rows, key=lambda c: c.acked)
    inversions = 0
    for b in new_rows:
        for a in by_ack:
            if a.acked >= b.sent:
                break
            if a.result is not None and b.result is not None and \
                    a.result.value.seq >= b.result.value.seq:
                inversions += 1
    if inversions:
        findings.append(f"{inversions} pushes got a lower seq than a push acknowledged "
                        f"before they were sent")
    # The reader missed no head: every final row is in its log under the same seq.
    heads = su.execute(
        "SELECT seq, entity_hash, device_id, lamport, payload FROM zkeb.sync_metadata "
        "WHERE user_id = %s ORDER BY seq", [tenant.user_id]).fetchall()
    missed = [r for r in heads if seen.get(r[0]) != tuple(r[1:])]
    if missed:
        findings.append(f"the reader paging by seq missed {len(missed)} of {len(heads)} heads")
    FIGURES.add(f"{fig}_sync", "races")
    FIGURES.add(f"{fig}_sync", "pushes", len(pushed))
    FIGURES.add(f"{fig}_sync", "reader_pages", reader_pages)
    FIGURES.add(f"{fig}_sync", "final_heads", len(heads))
    FIGURES.add(f"{fig}_sync", "heads_missed", len(missed))
    FIGURES.add(f"{fig}_sync", "seq_inversions", inversions)
    if invariant_violations(maint):
        findings.append(f"check_invariants: {invariant_violations(maint)}")
    close_all(conns)
    return findings


def test_concurrent_sync_push_seq_follows_commit_order(pdb: Any,
                                                       request: pytest.FixtureRequest) -> None:
    pushes = 80 if request.config.getoption("--slow") else 25
    assert sync_race(pdb, "sync", devices=6, pushes=pushes, shared=True) == []
    assert sync_race(pdb, "sync-fresh", devices=6, pushes=pushes, shared=False,
                     fresh_entities=True) == []


def test_negative_control_sync_race_catches_seq_out_of_commit_order(pdb: Any) -> None:
    su = pdb.connect("super")
    su.execute("CREATE SEQUENCE public.zkeb_rel_bug_seq")
    su.execute("GRANT USAGE ON SEQUENCE public.zkeb_rel_bug_seq TO zkeb_owner")
    # seq from a sequence outside the account row lock; odd ones commit late.
    with planted(su, SYNC_PUSH, {
        "PERFORM 1 FROM zkeb.users AS u WHERE u.user_id = _uid FOR NO KEY UPDATE;": "NULL;",
        """UPDATE zkeb.users AS u
       SET sync_seq = u.sync_seq + _n
     WHERE u.user_id = _uid
    RETURNING u.sync_seq INTO _seq;""":
            "_seq := pg_catalog.nextval('public.zkeb_rel_bug_seq'); "
            "PERFORM pg_catalog.pg_sleep(0.03 * (_seq % 2));",
    }):
        findings = sync_race(pdb, "sync-bug", devices=6, pushes=10, shared=False,
                             fresh_entities=True)
    FIGURES.control("concurrency: sync_push takes seq outside the account row lock",
                    bool(findings), "; ".join(findings) or "no finding")
    assert findings


# --------------------------------------------------------------------------
# Failed logins counted by one atomic statement; idempotent device registration
# --------------------------------------------------------------------------


def test_concurrent_failed_logins_lock_after_exactly_the_threshold(pdb: Any) -> None:
    tenant, su, maint = setup_tenant(pdb, "lockout")
    row = su.execute("SELECT lockout_threshold FROM zkeb_private.settings").fetchone()
    assert row is not None
    threshold = int(row[0])
    attempts = threshold * 3
    conns = connections(pdb, attempts)
    barrier = threading.Barrier(attempts)
    answers: list[str | None] = [None] * attempts

    def attempt(k: int) -> Any:
        def run() -> None:
            client = Client(conns[k])
            barrier.wait()
            answers[k] = client.login_status(tenant.username_hash, h(f"wrong-{k}")).status
        return run

    run_threads([attempt(k) for k in range(attempts)])
    counts = {s: answers.count(s) for s in ("denied", "locked")}
    FIGURES.add("concurrency_lockout", "concurrent_failed_logins", attempts)
    FIGURES.add("concurrency_lockout", "answered_denied", counts["denied"])
    # Exactly threshold - 1 failures are told "denied"; the threshold-th locks the account.
    assert counts == {"denied": threshold - 1, "locked": attempts - threshold + 1}, answers
    row = su.execute("SELECT failed_login_count, locked_until > now() FROM zkeb.users "
                     "WHERE user_id = %s", [tenant.user_id]).fetchone()
    assert row == (0, True)
    assert Client(conns[0]).login_status(tenant.username_hash, tenant.auth_key).status == "locked"
    assert invariant_violations(maint) == []


def test_concurrent_identical_register_device_is_idempotent(pdb: Any) -> None:
    tenant, su, maint = setup_tenant(pdb, "regdev")
    n = 10
    conns = connections(pdb, n)
    barrier = threading.Barrier(n)
    got: list[Outcome | None] = [None] * n

    def attempt(k: int) -> Any:
        def run() -> None:
            session = Session(Client(conns[k]), tenant.token)
            barrier.wait()
            got[k] = outcome(session.register_device, h("same-device"), b"\x07" * 32, "ed25519")
        return run

    run_threads([attempt(k) for k in range(n)])
    assert all(g is not None and g.ok for g in got), got
    ids = {g.value for g in got if g is not None}
    events = su.execute(
        "SELECT count(*) FROM zkeb.audit_logs WHERE user_hash = zkeb_private.audit_user_hash(%s) "
        "AND action = 'device_register' AND metadata ->> 'device_id' = %s",
        [tenant.user_id, str(next(iter(ids)))]).fetchone()
    FIGURES.add("concurrency_register_device", "concurrent_identical_registrations", n)
    assert len(ids) == 1 and events == (1,), (ids, events)
    assert invariant_violations(maint) == []
