"""Audit retention: old events go, each chain keeps an anchor, what remains still verifies."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import psycopg
from zkeb_maint_testkit import (
    audit,
    backdate,
    chain,
    checkpoint,
    count_rows,
    invariants,
    make_account,
    tamper,
    user_hash,
    verify,
)

Conn = psycopg.Connection[Any]
OLD = timedelta(days=40)
ANCHOR = "audit_retention_anchor"


def _aged_log(su: Conn) -> dict[str, Any]:
    """a: 8 events, 1..5 old; b: 3 events, all old; c: 3 recent; system: 2 old events."""
    a, b, c = make_account(su), make_account(su), make_account(su)
    audit(su, a.user_id, "login_ok", 7)
    audit(su, b.user_id, "login_ok", 2)
    audit(su, c.user_id, "login_ok", 2)
    audit(su, None, "maint_purge_trash", 2)
    uh = {k: user_hash(su, v.user_id) for k, v in (("a", a), ("b", b), ("c", c))}
    uh["system"] = user_hash(su, None)
    backdate(su, uh["a"], 5, OLD)
    backdate(su, uh["b"], 3, OLD)
    backdate(su, uh["system"], 2, OLD)
    return {"a": a, "b": b, "c": c, "uh": uh}


def test_purge_leaves_anchors_and_a_verifiable_log(su: Conn, maint: Conn, auditor: Conn) -> None:
    log = _aged_log(su)
    uh = log["uh"]
    assert verify(auditor)["ok"] is True and invariants(maint) == []
    before = {k: chain(su, v) for k, v in uh.items()}
    saved = checkpoint(auditor)

    row = maint.execute(
        "SELECT * FROM zkeb_maint.purge_audit_logs(older_than => '30 days')").fetchone()
    assert row == (10,)

    a = chain(su, uh["a"])
    assert [(r[0], r[1]) for r in a] == [(5, ANCHOR), (6, "login_ok"), (7, "login_ok"),
                                        (8, "login_ok")]
    # The anchor carries the removed event 5's position and hashes.
    assert (a[0][5], a[0][6]) == (before["a"][4][5], before["a"][4][6])
    meta = su.execute("SELECT metadata FROM zkeb.audit_logs WHERE user_hash = %s"
                      " AND event_id = 5", [uh["a"]]).fetchone()
    assert meta is not None
    assert meta[0]["purged_through_event_id"] == 5
    assert meta[0]["last_purged_action"] == "login_ok"
    assert [(r[0], r[1]) for r in chain(su, uh["b"])] == [(3, ANCHOR)]
    assert chain(su, uh["c"]) == before["c"]
    assert [(r[0], r[1]) for r in chain(su, uh["system"])] == [
        (2, ANCHOR), (3, "maint_purge_audit")]

    # What remains verifies, alone and against the checkpoint taken before the purge.
    for conn in (auditor, maint):
        result = verify(conn)
        assert result["ok"] is True, result
        assert result["checked_count"] == count_rows(su, "zkeb.audit_logs") == 4 + 1 + 3 + 2
    assert verify(auditor, saved)["ok"] is True
    assert invariants(maint) == []

    # Chains go on from their anchors.
    audit(su, log["b"].user_id, "logout")
    audit(su, log["a"].user_id, "logout")
    b = chain(su, uh["b"])
    assert (b[1][0], bytes(b[1][5])) == (4, bytes(b[0][6]))
    assert verify(auditor)["ok"] is True and invariants(maint) == []
    assert verify(auditor, saved)["ok"] is True

    # Nothing more is old enough; anchors are never purged on their own.
    assert maint.execute("SELECT * FROM zkeb_maint.purge_audit_logs(older_than => '30 days')"
                         ).fetchone() == (0,)
    assert [r[1] for r in chain(su, uh["b"])] == [ANCHOR, "logout"]


def test_a_later_purge_moves_the_anchor(su: Conn, maint: Conn, auditor: Conn) -> None:
    log = _aged_log(su)
    uh = log["uh"]
    maint.execute("SELECT * FROM zkeb_maint.purge_audit_logs(older_than => '30 days')")
    backdate(su, uh["a"], 7, timedelta(days=35))
    saved = checkpoint(auditor)
    row = maint.execute(
        "SELECT * FROM zkeb_maint.purge_audit_logs(older_than => '30 days')").fetchone()
    assert row == (2,)  # events 6 and 7; the old anchor is replaced, not counted
    assert [(r[0], r[1]) for r in chain(su, uh["a"])] == [(7, ANCHOR), (8, "login_ok")]
    assert verify(auditor)["ok"] is True
    assert verify(auditor, saved)["ok"] is True
    assert invariants(maint) == []


def test_removing_an_anchor_is_detected(su: Conn, maint: Conn, auditor: Conn) -> None:
    log = _aged_log(su)
    uh = log["uh"]
    maint.execute("SELECT * FROM zkeb_maint.purge_audit_logs(older_than => '30 days')")
    tamper(su, "DELETE FROM zkeb.audit_logs WHERE user_hash = %s AND action = %s",
           [uh["a"], ANCHOR])
    result = verify(auditor)
    assert result["ok"] is False
    assert (result["first_bad_user_hash"], result["first_bad_event_id"]) == (uh["a"], 1)
    assert "no retention anchor" in result["detail"]
    found = invariants(maint)
    assert [(r[0], r[1]) for r in found] == [("audit_chain_broken", log["a"].user_id)]


def test_an_anchor_in_the_middle_is_detected(su: Conn, auditor: Conn) -> None:
    log = _aged_log(su)
    uh = log["uh"]
    tamper(su, "UPDATE zkeb.audit_logs SET action = %s WHERE user_hash = %s AND event_id = 2",
           [ANCHOR, uh["c"]])
    result = verify(auditor)
    assert (result["first_bad_user_hash"], result["first_bad_event_id"]) == (uh["c"], 2)


def test_purge_batches_are_bounded(su: Conn, maint: Conn, auditor: Conn) -> None:
    _aged_log(su)
    counts = []
    while True:
        row = maint.execute("SELECT * FROM zkeb_maint.purge_audit_logs("
                            "older_than => '30 days', batch_size => 3)").fetchone()
        assert row is not None
        counts.append(row[0])
        if row[0] == 0:
            break
    assert counts == [3, 3, 3, 1, 0]
    assert verify(auditor)["ok"] is True
    assert invariants(maint) == []


def test_two_purge_workers(db: Any, su: Conn, auditor: Conn) -> None:
    _aged_log(su)
    start = threading.Barrier(2)
    totals = [0, 0]
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            conn = db.connect("maint")
            start.wait()
            while True:
                row = conn.execute("SELECT * FROM zkeb_maint.purge_audit_logs("
                                   "older_than => '30 days', batch_size => 2)").fetchone()
                totals[k] += row[0]
                if row[0] == 0:
                    break
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [] and not any(t.is_alive() for t in threads)
    last = db.connect("maint").execute(
        "SELECT * FROM zkeb_maint.purge_audit_logs(older_than => '30 days')").fetchone()
    assert sum(totals) + last[0] == 10
    assert verify(auditor)["ok"] is True


def test_default_retention_is_the_setting(su: Conn, maint: Conn) -> None:
    _aged_log(su)
    # Six years by default: nothing is that old.
    assert maint.execute("SELECT * FROM zkeb_maint.purge_audit_logs()").fetchone() == (0,)
    su.execute("UPDATE zkeb_private.settings SET audit_retention = '31 days'")
    assert maint.execute("SELECT * FROM zkeb_maint.purge_audit_logs()").fetchone() == (10,)
    metas = su.execute("SELECT metadata->>'older_than' FROM zkeb.audit_logs"
                       " WHERE action = 'maint_purge_audit' ORDER BY event_id").fetchall()
    assert [m[0] for m in metas] == ["6 years", "31 days"]
