"""store_recovery_shares and list_recovery_shares."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from zkeb_api_testkit import Tenant, h, snapshot

from zkeb_db.errors import InvalidInput


def test_store_replaces_the_set_atomically(tenant: Callable[..., Tenant],
                                           su: psycopg.Connection[Any]) -> None:
    alice = tenant("alice", device=False)
    bob = tenant("bob", device=False)
    bobs = bob.session.store_recovery_shares(2, [h("g1"), h("g2")], [1, 2], [b"b1", b"b2"])
    first = alice.session.store_recovery_shares(
        2, [h("g1"), h("g2"), h("g3")], [3, 1, 2], [b"s3", b"s1", b"s2"])
    shares = alice.session.list_recovery_shares()
    assert [(s.recovery_set_id, s.guardian_hash, s.share_index, s.threshold, s.total_shares,
             s.encrypted_share) for s in shares] == [
        (first, h("g2"), 1, 2, 3, b"s1"), (first, h("g3"), 2, 2, 3, b"s2"),
        (first, h("g1"), 3, 2, 3, b"s3")]

    second = alice.session.store_recovery_shares(3, [h("x")] * 4, [1, 2, 3, 4],
                                                 [b"a", b"b", b"c", b"d"])
    assert second != first
    shares = alice.session.list_recovery_shares()
    assert {s.recovery_set_id for s in shares} == {second}
    assert [(s.share_index, s.threshold, s.total_shares) for s in shares] == [
        (i, 3, 4) for i in (1, 2, 3, 4)]
    # Bob's set is untouched.
    assert {s.recovery_set_id for s in bob.session.list_recovery_shares()} == {bobs}
    events = su.execute(
        "SELECT metadata FROM zkeb.audit_logs WHERE user_hash = zkeb_private.audit_user_hash(%s) "
        "AND action = 'recovery_shares_store' ORDER BY event_id", [alice.user_id]).fetchall()
    assert [e[0]["recovery_set_id"] for e in events] == [str(first), str(second)]


def test_limits_are_inclusive(tenant: Callable[..., Tenant]) -> None:
    alice = tenant("alice", device=False)
    alice.session.store_recovery_shares(2, [h("a"), h("b")], [1, 2], [b"x", b"y" * 4096])
    alice.session.store_recovery_shares(255, [h("g")] * 255, list(range(1, 256)), [b"s"] * 255)
    assert len(alice.session.list_recovery_shares()) == 255


G2 = [h("a"), h("b")]

BAD_SETS: list[tuple[Any, Any, Any, Any]] = [
    (None, G2, [1, 2], [b"a", b"b"]),
    (1, G2, [1, 2], [b"a", b"b"]),
    (3, G2, [1, 2], [b"a", b"b"]),
    (2, None, [1, 2], [b"a", b"b"]),
    (2, G2, None, [b"a", b"b"]),
    (2, G2, [1, 2], None),
    (2, [], [], []),
    (2, G2, [1], [b"a", b"b"]),
    (2, G2, [1, 2], [b"a"]),
    (2, [h("a"), h("b"), h("c")], [1, 2], [b"a", b"b"]),
    (2, G2, [1, 1], [b"a", b"b"]),
    (2, G2, [0, 1], [b"a", b"b"]),
    (2, G2, [1, 3], [b"a", b"b"]),
    (2, G2, [1, None], [b"a", b"b"]),
    (2, [h("a"), b"x" * 31], [1, 2], [b"a", b"b"]),
    (2, [h("a"), None], [1, 2], [b"a", b"b"]),
    (2, G2, [1, 2], [b"a", b""]),
    (2, G2, [1, 2], [b"a", None]),
    (2, G2, [1, 2], [b"a", b"x" * 4097]),
    (256, [h("g")] * 256, list(range(1, 257)), [b"s"] * 256),
]


def test_store_rejects_bad_sets_and_keeps_the_old_one(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice", device=False)
    old = alice.session.store_recovery_shares(2, G2, [1, 2], [b"a", b"b"])
    before = snapshot(su)
    for threshold, guardians, indexes, shares in BAD_SETS:
        with pytest.raises(InvalidInput):
            alice.session.store_recovery_shares(threshold, guardians, indexes, shares)
        assert snapshot(su) == before, (threshold, guardians, indexes, shares)
    assert {s.recovery_set_id for s in alice.session.list_recovery_shares()} == {old}


def test_two_dimensional_arrays_are_rejected(tenant: Callable[..., Tenant],
                                             app_conn: psycopg.Connection[Any]) -> None:
    alice = tenant("alice", device=False)
    from zkeb_db.errors import wrap_errors

    with pytest.raises(InvalidInput), wrap_errors():
        app_conn.execute(
            "SELECT * FROM zkeb_api.store_recovery_shares(%s, 2, ARRAY[[%s, %s]]::bytea[], "
            "ARRAY[[1, 2]], ARRAY[['\\x01', '\\x02']]::bytea[])", [alice.token, h("a"), h("b")])
