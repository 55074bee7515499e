"""sync_push and sync_pull: vector clocks, siblings, Lamport values, seq order."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from zkeb_api_testkit import Background, Tenant, h, snapshot, wait_until_blocked

from zkeb_db.client import Client, Session
from zkeb_db.errors import Conflict, Forbidden, InvalidInput, NotFound, QuotaExceeded

E = h("entity")


def _devices(alice: Tenant, n: int) -> list[str]:
    assert alice.device_id is not None
    ids = [alice.device_id] + [
        alice.session.register_device(h(f"dev{i}"), os.urandom(32), "ed25519")
        for i in range(1, n)
    ]
    return [str(d) for d in ids]


def _heads(session: Session, entity: bytes = E) -> list[tuple[Any, ...]]:
    return sorted(((c.vector_clock, c.is_sibling, c.payload)
                   for c in session.sync_pull(page_size=1000) if c.entity_hash == entity),
                  key=repr)


def test_dominating_pushes_apply_and_replace_the_head(tenant: Callable[..., Tenant]) -> None:
    alice = tenant("alice")
    a, = _devices(alice, 1)
    s = alice.session
    r1 = s.sync_push(E, a, {a: 1}, 1, b"v1")
    assert (r1.status, r1.seq, r1.merged_clock) == ("applied", 1, {a: 1})
    r2 = s.sync_push(E, a, {a: 2}, 2, b"v2")
    assert (r2.status, r2.seq, r2.merged_clock) == ("applied", 2, {a: 2})
    assert _heads(s) == [({a: 2}, False, b"v2")]
    # An older clock is stale: nothing written, the current seq returned.
    before = s.sync_pull()
    stale = s.sync_push(E, a, {a: 1}, 3, b"old")
    assert (stale.status, stale.seq, stale.merged_clock) == ("stale", 2, {a: 2})
    assert s.sync_pull() == before


def test_an_equal_clock_is_a_retry(tenant: Callable[..., Tenant],
                                   su: psycopg.Connection[Any]) -> None:
    alice = tenant("alice")
    a, = _devices(alice, 1)
    s = alice.session
    first = s.sync_push(E, a, {a: 1}, 1, b"v1")
    before = snapshot(su)
    again = s.sync_push(E, a, {a: 1}, 1, b"v1")
    assert again == first
    assert snapshot(su) == before
    # The same clock with other content, or a Lamport value that is not new, is a conflict.
    for lamport, payload in ((1, b"other"), (0, b"v1")):
        with pytest.raises(Conflict):
            s.sync_push(E, a, {a: 1}, lamport, payload)
    assert snapshot(su) == before


def test_concurrent_clocks_become_siblings_and_collapse_on_a_dominating_write(
    tenant: Callable[..., Tenant]
) -> None:
    alice = tenant("alice")
    a, b, c = _devices(alice, 3)
    s = alice.session
    s.sync_push(E, a, {a: 1}, 1, b"base")
    r_a = s.sync_push(E, a, {a: 2}, 2, b"from-a")
    r_b = s.sync_push(E, b, {a: 1, b: 1}, 1, b"from-b")
    assert r_a.status == "applied"
    assert r_b.status == "conflict"
    assert r_b.merged_clock == {a: 2, b: 1}
    assert _heads(s) == sorted([({a: 2}, True, b"from-a"), ({a: 1, b: 1}, True, b"from-b")],
                               key=repr)
    # A third concurrent version joins the siblings.
    r_c = s.sync_push(E, c, {c: 1}, 1, b"from-c")
    assert r_c.status == "conflict" and r_c.merged_clock == {a: 2, b: 1, c: 1}
    assert len(_heads(s)) == 3 and all(sib for _, sib, _ in _heads(s))
    # Dominating one sibling but not the others replaces only that one.
    r = s.sync_push(E, c, {c: 2}, 2, b"c2")
    assert r.status == "conflict"
    assert sorted(p for _, _, p in _heads(s)) == [b"c2", b"from-a", b"from-b"]
    # A write that dominates them all collapses the siblings into one head.
    merged = s.sync_push(E, a, {a: 3, b: 1, c: 2}, 3, b"merged")
    assert merged.status == "applied"
    assert merged.merged_clock == {a: 3, b: 1, c: 2}
    assert _heads(s) == [({a: 3, b: 1, c: 2}, False, b"merged")]


def test_seq_tracks_every_change_and_pull_pages_in_seq_order(
    tenant: Callable[..., Tenant]
) -> None:
    alice = tenant("alice")
    a, b = _devices(alice, 2)
    s = alice.session
    seqs = [s.sync_push(h(f"e{i}"), a, {a: i + 1}, i + 1).seq for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    s.sync_push(h("e0"), a, {a: 10}, 10)                       # supersedes seq 1
    r = s.sync_push(h("e1"), b, {b: 1}, 1)                    # e1 head turns sibling
    assert r.seq is not None
    pulled = s.sync_pull()
    assert [c.seq for c in pulled] == sorted(c.seq for c in pulled)
    assert 1 not in [c.seq for c in pulled]                    # superseded: a gap
    e1 = [c for c in pulled if c.entity_hash == h("e1")]
    # The old head got a new seq when it became a sibling, so readers see the flag change.
    assert {c.seq for c in e1} == {r.seq - 1, r.seq} and all(c.is_sibling for c in e1)
    # Paging by seq returns everything once.
    seen: list[int] = []
    after = 0
    while page := s.sync_pull(after_seq=after, page_size=2):
        seen += [c.seq for c in page]
        after = page[-1].seq
    assert seen == [c.seq for c in pulled]
    assert s.sync_pull(after_seq=pulled[-1].seq) == []


def test_retries_and_stale_pushes_need_no_new_lamport(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    a, b = _devices(alice, 2)
    s = alice.session
    first = s.sync_push(h("e1"), a, {a: 1}, 1, b"v1")
    s.sync_push(h("e2"), a, {a: 2}, 2)
    s.sync_push(h("e3"), b, {a: 1, b: 1}, 1)
    s.sync_push(h("e3"), b, {a: 1, b: 2}, 2)
    before = snapshot(su)
    # The reply to the first push was lost: its retry still answers, though the
    # device has pushed since.
    assert s.sync_push(h("e1"), a, {a: 1}, 1, b"v1") == first
    # A retry of a push that has been superseded since is merely stale.
    stale = s.sync_push(h("e3"), b, {a: 1, b: 1}, 1)
    assert (stale.status, stale.merged_clock) == ("stale", {a: 1, b: 2})
    assert snapshot(su) == before


def test_lamport_must_increase_per_device(tenant: Callable[..., Tenant],
                                          su: psycopg.Connection[Any]) -> None:
    alice = tenant("alice")
    a, b = _devices(alice, 2)
    s = alice.session
    s.sync_push(h("e1"), a, {a: 1}, 5)
    before = snapshot(su)
    for lamport in (4, 5):
        with pytest.raises(Conflict):
            s.sync_push(h("e2"), a, {a: 1}, lamport)
    assert snapshot(su) == before
    assert s.sync_push(h("e2"), a, {a: 1}, 6).status == "applied"
    # Per device: another device has its own sequence.
    assert s.sync_push(h("e3"), b, {b: 1}, 0).status == "applied"


def test_push_rejects_bad_input(tenant: Callable[..., Tenant], su: psycopg.Connection[Any]) -> None:
    alice = tenant("alice")
    a, = _devices(alice, 1)
    s = alice.session
    big = {str(uuid.uuid4()): 1 for _ in range(1001)}
    before = snapshot(su)
    bad: list[dict[str, Any]] = [
        {"entity_hash": None}, {"entity_hash": b"x" * 31},
        {"device_id": None},
        {"vector_clock": None}, {"vector_clock": [1]}, {"vector_clock": {"not-a-uuid": 1}},
        {"vector_clock": {a: -1}}, {"vector_clock": {a: 1.5}}, {"vector_clock": {a: "1"}},
        {"vector_clock": {a.upper(): 1}}, {"vector_clock": {a: {"deep": [1]}}},
        {"vector_clock": big},
        {"lamport": None}, {"lamport": -1},
    ]
    for override in bad:
        args: dict[str, Any] = {"entity_hash": E, "device_id": a, "vector_clock": {a: 1},
                                "lamport": 1}
        args.update(override)
        with pytest.raises(InvalidInput):
            s.sync_push(**args)
    with pytest.raises(QuotaExceeded):
        s.sync_push(E, a, {a: 1}, 1, os.urandom(65537))
    assert snapshot(su) == before
    assert s.sync_push(E, a, {a: 1}, 1, os.urandom(65536)).status == "applied"


def test_push_needs_an_active_device_of_the_caller(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    bob = tenant("bob")
    a, = _devices(alice, 1)
    before = snapshot(su)
    answers = []
    for device in (bob.device_id, uuid.uuid4()):
        with pytest.raises(NotFound) as info:
            alice.session.sync_push(E, device, {a: 1}, 1)  # type: ignore[arg-type]
        answers.append((info.value.message, info.value.detail))
    assert answers[0] == answers[1]
    assert snapshot(su) == before
    alice.session.revoke_device(a)
    with pytest.raises(Forbidden):
        alice.session.sync_push(E, a, {a: 1}, 1)


def test_pull_rejects_bad_input_and_sees_only_the_callers_entities(
    tenant: Callable[..., Tenant]
) -> None:
    alice = tenant("alice")
    bob = tenant("bob")
    a, = _devices(alice, 1)
    alice.session.sync_push(E, a, {a: 1}, 1)
    assert bob.device_id is not None
    bob.session.sync_push(E, bob.device_id, {str(bob.device_id): 1}, 1)
    assert [c.device_id for c in alice.session.sync_pull()] == [uuid.UUID(a)]
    for kwargs in ({"after_seq": -1}, {"after_seq": None}, {"page_size": 0},
                   {"page_size": 1001}, {"page_size": None}):
        with pytest.raises(InvalidInput):
            alice.session.sync_pull(**kwargs)
    assert len(alice.session.sync_pull(page_size=1000)) == 1


def test_a_reader_never_skips_a_push_that_commits_late(
    db: Any, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    a, b = _devices(alice, 2)
    late_conn = db.connect("app")
    with Client(db.connect("app")).transaction() as tx:
        first = tx.session(alice.token).sync_push(h("e1"), a, {a: 1}, 1)
        # A second push from another device waits for the first one's account row lock.
        pending = Background(lambda: Client(late_conn).session(alice.token).sync_push(
            h("e2"), b, {b: 1}, 1))
        wait_until_blocked(su, late_conn.info.backend_pid)
        assert alice.session.sync_pull() == []  # nothing committed yet
    second = pending.result()
    assert second.seq is not None and first.seq is not None and second.seq > first.seq
    assert [c.seq for c in alice.session.sync_pull()] == [first.seq, second.seq]
