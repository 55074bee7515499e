"""The tamper-evident audit log: append-only, hash chains, checkpoints (docs/audit.md)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from zkeb_maint_testkit import (
    ZERO32,
    Account,
    audit,
    chain,
    checkpoint,
    count_rows,
    invariants,
    make_account,
    rehash_chain,
    row_hash,
    shift_up,
    tamper,
    user_hash,
    verify,
)

Conn = psycopg.Connection[Any]


def _log(su: Conn) -> tuple[Account, Account, bytes]:
    """Two accounts with 6 events each (register + 5) and a system chain of 2 events."""
    a = make_account(su)
    b = make_account(su)
    audit(su, a.user_id, "login_ok", 5, '{"n": 1}')
    audit(su, b.user_id, "backup_create", 5, '{"backup_id": "x|y"}')
    audit(su, None, "maint_cleanup_expired", 2)
    return a, b, user_hash(su, a.user_id)


def _bad(result: dict[str, Any], uh: bytes, event_id: int) -> None:
    assert result["ok"] is False, result
    assert result["first_bad_user_hash"] == uh, result
    assert result["first_bad_event_id"] == event_id, result
    assert result["bad_chain_count"] == 1, result


def test_untouched_log_verifies(su: Conn, auditor: Conn, maint: Conn) -> None:
    _log(su)
    total = count_rows(su, "zkeb.audit_logs")
    assert total == 14
    for conn in (auditor, maint):
        result = verify(conn)
        assert result["ok"] is True, result
        assert result["checked_count"] == total
        assert result["first_bad_event_id"] is None
        assert result["bad_chain_count"] == 0
    assert invariants(maint) == []


def test_verify_and_export_write_nothing(su: Conn, auditor: Conn, maint: Conn) -> None:
    _log(su)
    before = su.execute("SELECT user_hash, event_id, row_hash FROM zkeb.audit_logs"
                        " ORDER BY 1, 2").fetchall()
    verify(auditor)
    verify(maint, checkpoint(maint))
    checkpoint(auditor)
    assert invariants(maint) == []
    after = su.execute("SELECT user_hash, event_id, row_hash FROM zkeb.audit_logs"
                       " ORDER BY 1, 2").fetchall()
    assert after == before


def test_row_hash_is_the_documented_encoding(su: Conn) -> None:
    """docs/audit.md describes the encoding well enough to recompute every hash outside."""
    a, _, uh = _log(su)
    rows = chain(su, uh)
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    prev = ZERO32
    for event_id, action, success, meta, created_at, prev_hash, stored in rows:
        assert bytes(prev_hash) == prev
        assert row_hash(prev, uh, event_id, action, success, created_at, meta) == bytes(stored)
        prev = bytes(stored)
    head = su.execute("SELECT audit_event_id, audit_head FROM zkeb.users WHERE user_id = %s",
                      [a.user_id]).fetchone()
    assert head is not None and head[0] == 6 and bytes(head[1]) == prev
    # The pseudonym is the keyed hash of the id, not the id.
    assert uh != a.user_id.bytes and len(uh) == 32


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("metadata", "'{\"n\": 2}'::jsonb"),
        ("success", "false"),
        ("action", "'logout'"),
        ("created_at", "created_at + interval '1 microsecond'"),
        ("prev_hash", "sha256('x'::bytea)"),
        ("row_hash", "sha256('x'::bytea)"),
    ],
)
def test_updated_row_is_named(su: Conn, auditor: Conn, column: str, value: str) -> None:
    _, _, uh = _log(su)
    tamper(su, f"UPDATE zkeb.audit_logs SET {column} = {value}"
               " WHERE user_hash = %s AND event_id = 3", [uh])
    _bad(verify(auditor), uh, 3)


def test_deleted_row_is_named(su: Conn, auditor: Conn) -> None:
    _, _, uh = _log(su)
    tamper(su, "DELETE FROM zkeb.audit_logs WHERE user_hash = %s AND event_id = 4", [uh])
    result = verify(auditor)
    _bad(result, uh, 4)
    assert "missing" in result["detail"]


def test_deleted_first_row_is_named(su: Conn, auditor: Conn) -> None:
    _, _, uh = _log(su)
    tamper(su, "DELETE FROM zkeb.audit_logs WHERE user_hash = %s AND event_id = 1", [uh])
    _bad(verify(auditor), uh, 1)


def test_deleted_row_with_renumbering_is_named(su: Conn, auditor: Conn) -> None:
    """Closing the gap by renumbering changes the content of every later event."""
    _, _, uh = _log(su)
    tamper(su, "DELETE FROM zkeb.audit_logs WHERE user_hash = %s AND event_id = 2", [uh])
    tamper(su, "UPDATE zkeb.audit_logs SET event_id = event_id - 1"
               " WHERE user_hash = %s AND event_id > 2", [uh])
    _bad(verify(auditor), uh, 2)


def test_inserted_row_in_the_middle_is_named(su: Conn, auditor: Conn) -> None:
    _, _, uh = _log(su)
    shift_up(su, uh, 3)
    tamper(su, "INSERT INTO zkeb.audit_logs (user_hash, event_id, action, success, metadata,"
               "   prev_hash, row_hash) VALUES (%s, 3, 'logout', true, '{}', %s, %s)",
               [uh, ZERO32, ZERO32])
    _bad(verify(auditor), uh, 3)


def test_inserted_row_with_a_valid_hash_is_caught_at_the_next_event(
        su: Conn, auditor: Conn) -> None:
    """A forger who links the inserted event properly is caught where the chain resumes."""
    _, _, uh = _log(su)
    shift_up(su, uh, 3)
    prev = bytes(chain(su, uh)[1][6])
    tamper(su, "INSERT INTO zkeb.audit_logs (user_hash, event_id, action, success, metadata,"
               "   created_at, prev_hash, row_hash)"
               " VALUES (%(uh)s, 3, 'logout', true, '{}', now(), %(p)s,"
               "   zkeb_private.audit_row_hash(%(p)s, %(uh)s, 3, 'logout', true, now(), '{}'))",
               {"uh": uh, "p": prev})
    inserted = chain(su, uh)[2]
    assert row_hash(prev, uh, 3, "logout", True, inserted[4], "{}") == bytes(inserted[6])
    _bad(verify(auditor), uh, 4)


def test_full_rewrite_is_caught_only_against_a_checkpoint(
        su: Conn, auditor: Conn, maint: Conn) -> None:
    a, _, uh = _log(su)
    saved = checkpoint(auditor)
    assert len(saved) == 3
    mine = next(e for e in saved if e["user_hash"] == "\\x" + uh.hex())
    assert mine["last_event_id"] == 6
    # A superuser edits event 2, recomputes every hash after it and the account's head.
    tamper(su, "UPDATE zkeb.audit_logs SET metadata = '{\"n\": 99}'"
               " WHERE user_hash = %s AND event_id = 2", [uh])
    rehash_chain(su, uh)
    # Consistent with itself: nothing without a checkpoint can tell (docs/audit.md).
    assert verify(auditor)["ok"] is True
    assert invariants(maint) == []
    # The checkpoint kept outside still knows event 6's hash.
    result = verify(auditor, saved)
    _bad(result, uh, 6)
    assert "checkpoint" in result["detail"]
    # The other chains of the log still pass against the same checkpoint.
    assert result["bad_chain_count"] == 1
    assert a.user_id is not None


def test_truncated_tail_is_caught_by_the_checkpoint_and_the_account_head(
        su: Conn, auditor: Conn, maint: Conn) -> None:
    a, _, uh = _log(su)
    saved = checkpoint(auditor)
    tamper(su, "DELETE FROM zkeb.audit_logs WHERE user_hash = %s AND event_id >= 5", [uh])
    assert verify(auditor)["ok"] is True  # what is left is consistent
    result = verify(auditor, saved)
    _bad(result, uh, 5)
    # Without a checkpoint, the head on the account's row still knows.
    found = invariants(maint)
    assert [(r[0], r[1]) for r in found] == [("audit_chain_broken", a.user_id)]
    assert "event 5" in found[0][2]


def test_appended_forgery_is_caught_by_the_account_head(su: Conn, maint: Conn) -> None:
    a, _, uh = _log(su)
    last = chain(su, uh)[-1]
    tamper(su, "INSERT INTO zkeb.audit_logs (user_hash, event_id, action, success, metadata,"
               "   created_at, prev_hash, row_hash)"
               " VALUES (%(uh)s, 7, 'logout', true, '{}', now(), %(p)s,"
               "   zkeb_private.audit_row_hash(%(p)s, %(uh)s, 7, 'logout', true, now(), '{}'))",
               {"uh": uh, "p": bytes(last[6])})
    assert verify(maint)["ok"] is True
    assert [(r[0], r[1]) for r in invariants(maint)] == [("audit_chain_broken", a.user_id)]


def test_a_vanished_chain(su: Conn, auditor: Conn, maint: Conn) -> None:
    a, _, uh = _log(su)
    saved = checkpoint(auditor)
    tamper(su, "DELETE FROM zkeb.audit_logs WHERE user_hash = %s", [uh])
    assert verify(auditor)["ok"] is True
    _bad(verify(auditor, saved), uh, 6)
    found = invariants(maint)
    assert [(r[0], r[1]) for r in found] == [("audit_chain_broken", a.user_id)]
    assert "gone" in found[0][2]


def test_malformed_checkpoint_is_zk422(su: Conn, auditor: Conn) -> None:
    _log(su)
    good = checkpoint(auditor)
    assert verify(auditor, good)["ok"] is True
    bad_values: list[Any] = [
        {"user_hash": good[0]["user_hash"]},
        [{"user_hash": "\\x00", "last_event_id": 1, "last_row_hash": good[0]["last_row_hash"]}],
        [{**good[0], "last_event_id": 0}],
        [{**good[0], "last_event_id": "7"}],
        [{**good[0], "last_row_hash": None}],
        [42],
    ]
    for value in bad_values:
        with pytest.raises(psycopg.DatabaseError) as info:
            verify(auditor, value)
        assert info.value.sqlstate == "ZK422", value


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE zkeb.audit_logs SET success = false",
        "DELETE FROM zkeb.audit_logs",
        "TRUNCATE zkeb.audit_logs",
    ],
)
def test_append_only_even_for_a_superuser(su: Conn, statement: str) -> None:
    _log(su)
    with pytest.raises(psycopg.DatabaseError) as info:
        su.execute(statement)
    assert info.value.sqlstate == "ZK403"
    assert count_rows(su, "zkeb.audit_logs") == 14


def test_the_purge_flag_alone_opens_nothing(su: Conn) -> None:
    """zkeb.audit_purge set by hand does not let a DELETE through outside maintenance."""
    _log(su)
    with pytest.raises(psycopg.DatabaseError) as info, su.transaction():
        su.execute("SET LOCAL zkeb.audit_purge = 'on'")
        su.execute("DELETE FROM zkeb.audit_logs WHERE event_id = 1")
    assert info.value.sqlstate == "ZK403"


def test_retention_anchor_cannot_be_written_through_audit(su: Conn) -> None:
    a = make_account(su)
    with pytest.raises(psycopg.DatabaseError) as info:
        audit(su, a.user_id, "audit_retention_anchor")
    assert info.value.sqlstate == "ZK422"


def test_auditor_and_maintainer_see_all_chains(su: Conn, auditor: Conn) -> None:
    _log(su)
    rows = auditor.execute("SELECT * FROM zkeb_maint.export_audit_checkpoint()").fetchall()
    heads = su.execute("SELECT DISTINCT ON (user_hash) user_hash, event_id, row_hash"
                       "  FROM zkeb.audit_logs ORDER BY user_hash, event_id DESC").fetchall()
    assert [(bytes(r[0]), r[1], bytes(r[2])) for r in rows] == \
        [(bytes(r[0]), r[1], bytes(r[2])) for r in heads]
    assert sorted(r[1] for r in rows) == [2, 6, 6]


def test_system_chain_tampering_is_named(su: Conn, auditor: Conn) -> None:
    _log(su)
    system = user_hash(su, None)
    tamper(su, "UPDATE zkeb.audit_logs SET metadata = '{\"deleted_count\": 0}'"
               " WHERE user_hash = %s AND event_id = 2", [system])
    _bad(verify(auditor), system, 2)


def test_two_broken_chains_are_counted(su: Conn, auditor: Conn) -> None:
    a, b, uh_a = _log(su)
    uh_b = user_hash(su, b.user_id)
    tamper(su, "DELETE FROM zkeb.audit_logs WHERE user_hash = ANY(%s) AND event_id = 2",
           [[uh_a, uh_b]])
    result = verify(auditor)
    assert result["ok"] is False and result["bad_chain_count"] == 2
    assert result["first_bad_user_hash"] == min(uh_a, uh_b)
    assert result["first_bad_event_id"] == 2
    assert a.user_id != b.user_id


def test_events_keep_time_order_along_a_chain(su: Conn) -> None:
    a = make_account(su)
    audit(su, a.user_id, "login_ok", 20)
    times = [r[4] for r in chain(su, user_hash(su, a.user_id))]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
