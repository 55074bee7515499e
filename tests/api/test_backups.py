"""create/list/get/delete/restore/purge backups and storage_usage, quota under concurrency."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from zkeb_api_testkit import (
    Background,
    Tenant,
    h,
    snapshot,
    storage_drift,
    stored_sizes,
    used_bytes,
    wait_until_blocked,
)

from zkeb_db.client import Client
from zkeb_db.errors import Conflict, Forbidden, InvalidInput, NotFound, QuotaExceeded

QUOTA_SQL = "UPDATE zkeb.users SET storage_quota_bytes = %s WHERE user_id = %s"


def _consistent(su: psycopg.Connection[Any], tenant: Tenant) -> int:
    used = used_bytes(su, tenant.user_id)
    assert used == stored_sizes(su, tenant.user_id)
    return used


# -- create_backup ------------------------------------------------------------------


def test_create_and_get_backup(tenant: Callable[..., Tenant], su: psycopg.Connection[Any]) -> None:
    alice = tenant("alice")
    expires = datetime.now(UTC) + timedelta(days=3)
    args = alice.backup(size=1234, expires_at=expires)
    created = alice.session.create_backup(**args)
    assert created.replayed is False
    assert created.storage_used_bytes == 1234 == _consistent(su, alice)
    got = alice.session.get_backup(args["backup_id"])
    device = alice.session.list_devices()[0]
    assert (got.ciphertext, got.nonce, got.auth_tag, got.signature, got.device_id,
            got.public_key, got.key_algorithm, got.created_at) == (
        args["ciphertext"], args["nonce"], args["auth_tag"], args["signature"], alice.device_id,
        device.public_key, "ed25519", created.created_at)
    listed = alice.session.list_backups()
    assert [(b.backup_id, b.backup_name_hash, b.size_bytes, b.expires_at, b.deleted_at)
            for b in listed] == [(args["backup_id"], h("file"), 1234, expires, None)]
    event = su.execute(
        "SELECT metadata FROM zkeb.audit_logs WHERE user_hash = zkeb_private.audit_user_hash(%s) "
        "AND action = 'backup_create'", [alice.user_id]).fetchone()
    assert event == ({"backup_id": str(args["backup_id"]), "size_bytes": 1234},)


def test_rsa_device_signatures_are_512_bytes(tenant: Callable[..., Tenant],
                                             su: psycopg.Connection[Any]) -> None:
    alice = tenant("alice", key_algorithm="rsa-4096")
    alice.create()
    before = snapshot(su)
    with pytest.raises(InvalidInput):
        alice.session.create_backup(**alice.backup(signature=os.urandom(64)))
    assert snapshot(su) == before
    _consistent(su, alice)


def test_retry_with_the_same_id_charges_once(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    args = alice.backup(size=500)
    first = alice.session.create_backup(**args)
    before = snapshot(su)
    for _ in range(3):
        again = alice.session.create_backup(**args)
        assert again.replayed is True
        assert (again.created_at, again.storage_used_bytes) == (first.created_at, 500)
    assert snapshot(su) == before
    # Trashing does not change the content: a retry still replays, charges nothing.
    alice.session.delete_backup(args["backup_id"])
    assert alice.session.create_backup(**args).replayed is True
    assert _consistent(su, alice) == 500


def test_a_retry_answers_from_the_stored_row_even_after_the_device_was_revoked(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    args = alice.create()
    assert alice.device_id is not None
    alice.session.revoke_device(alice.device_id)
    assert alice.session.create_backup(**args).replayed is True
    with pytest.raises(Forbidden):
        alice.session.create_backup(**alice.backup())


def test_same_id_with_other_content_is_conflict(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    other_device = alice.session.register_device(h("tablet"), os.urandom(32), "ed25519")
    args = alice.create(size=100)
    other_values = {
        "device_id": other_device,
        "backup_name_hash": h("other"),
        "ciphertext": os.urandom(100),
        "nonce": os.urandom(12),
        "auth_tag": os.urandom(16),
        "signature": os.urandom(64),
        "expires_at": datetime.now(UTC) + timedelta(days=1),
    }
    before = snapshot(su)
    for field, value in other_values.items():
        changed = dict(args)
        changed[field] = value
        with pytest.raises(Conflict):
            alice.session.create_backup(**changed)
        assert snapshot(su) == before, field
    assert alice.session.get_backup(args["backup_id"]).ciphertext == args["ciphertext"]


def test_over_quota_is_rejected_and_writes_nothing(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    su.execute(QUOTA_SQL, [1000, alice.user_id])
    alice.create(size=600)
    before = snapshot(su)
    big = alice.backup(size=401)
    with pytest.raises(QuotaExceeded) as info:
        alice.session.create_backup(**big)
    assert "401" in (info.value.detail or "")
    assert snapshot(su) == before
    with pytest.raises(NotFound):
        alice.session.get_backup(big["backup_id"])
    # Exactly up to the quota is fine.
    assert alice.session.create_backup(**alice.backup(size=400)).storage_used_bytes == 1000
    assert _consistent(su, alice) == 1000


def test_larger_than_max_backup_bytes_is_rejected(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    su.execute("UPDATE zkeb_private.settings SET max_backup_bytes = 1000")
    before = snapshot(su)
    with pytest.raises(QuotaExceeded):
        alice.session.create_backup(**alice.backup(size=1001))
    assert snapshot(su) == before
    alice.create(size=1000)
    assert _consistent(su, alice) == 1000


def test_revoked_unknown_and_foreign_devices_cannot_create(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    bob = tenant("bob")
    revoked = alice.session.register_device(h("old"), os.urandom(32), "ed25519")
    alice.session.revoke_device(revoked)
    before = snapshot(su)
    with pytest.raises(Forbidden):
        alice.session.create_backup(**alice.backup(device_id=revoked))
    answers = []
    for device in (bob.device_id, uuid.uuid4()):
        with pytest.raises(NotFound) as info:
            alice.session.create_backup(**alice.backup(device_id=device))
        answers.append((info.value.message, info.value.detail))
    assert answers[0] == answers[1]
    assert snapshot(su) == before


def _bad_create_args(tenant: Tenant) -> list[tuple[str, dict[str, Any]]]:
    past = datetime.now(UTC) - timedelta(seconds=1)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("backup_id NULL", {"backup_id": None}),
        ("device_id NULL", {"device_id": None}),
        ("name hash NULL", {"backup_name_hash": None}),
        ("name hash short", {"backup_name_hash": b"x" * 31}),
        ("ciphertext NULL", {"ciphertext": None}),
        ("ciphertext empty", {"ciphertext": b""}),
        ("nonce NULL", {"nonce": None}),
        ("nonce 11", {"nonce": b"n" * 11}),
        ("nonce 13", {"nonce": b"n" * 13}),
        ("tag NULL", {"auth_tag": None}),
        ("tag 15", {"auth_tag": b"t" * 15}),
        ("signature NULL", {"signature": None}),
        ("signature 63", {"signature": b"s" * 63}),
        ("signature 512 on ed25519", {"signature": b"s" * 512}),
        ("expired", {"expires_at": past}),
    ]
    return cases


def test_create_backup_rejects_each_bad_argument(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    before = snapshot(su)
    for label, override in _bad_create_args(alice):
        with pytest.raises(InvalidInput):
            alice.session.create_backup(**alice.backup(**override))
        assert snapshot(su) == before, label


def test_racing_retries_with_room_for_one_charge_once(
    db: Any, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    args = alice.backup(size=700)
    su.execute(QUOTA_SQL, [700, alice.user_id])
    # The first attempt holds its insert open; the retries must wait for it.
    first = Client(db.connect("app"))
    retry_conns = [db.connect("app") for _ in range(3)]
    with first.transaction() as tx:
        assert tx.session(alice.token).create_backup(**args).replayed is False
        retries = [Client(conn).session(alice.token) for conn in retry_conns]
        pending = [Background(lambda r=r: r.create_backup(**args)) for r in retries]  # type: ignore[misc]
        for conn in retry_conns:
            wait_until_blocked(su, conn.info.backend_pid)
    results = [p.result() for p in pending]
    assert [r.replayed for r in results] == [True, True, True]
    assert {r.storage_used_bytes for r in results} == {700}
    assert _consistent(su, alice) == 700


def test_a_retry_racing_a_failed_first_attempt_stores_it(
    db: Any, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    args = alice.backup(size=300)
    retry_conn = db.connect("app")
    with Client(db.connect("app")).transaction() as tx:
        tx.session(alice.token).create_backup(**args)
        pending = Background(lambda: Client(retry_conn).session(alice.token).create_backup(**args))
        wait_until_blocked(su, retry_conn.info.backend_pid)
        raise psycopg.Rollback()  # the first attempt's reply was lost and it rolled back
    result = pending.result()
    assert result.replayed is False and result.storage_used_bytes == 300
    assert _consistent(su, alice) == 300


def test_racing_different_backups_with_room_for_one(
    db: Any, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    su.execute(QUOTA_SQL, [1000, alice.user_id])
    second_conn = db.connect("app")
    with Client(db.connect("app")).transaction() as tx:
        tx.session(alice.token).create_backup(**alice.backup(size=600))
        second = Client(second_conn).session(alice.token)
        pending = Background(lambda: second.create_backup(**alice.backup(size=600)))
        wait_until_blocked(su, second_conn.info.backend_pid)
    with pytest.raises(QuotaExceeded):
        pending.result()
    assert _consistent(su, alice) == 600


def test_many_concurrent_writers_never_pass_the_quota(
    db: Any, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    su.execute(QUOTA_SQL, [5 * 100, alice.user_id])
    conns = [db.connect("app") for _ in range(12)]
    same = alice.backup(size=100)  # half the writers retry one backup, half write new ones
    barrier = threading.Barrier(len(conns))
    outcomes: list[str] = []

    def write(i: int) -> str:
        args = same if i % 2 else alice.backup(size=100)
        barrier.wait()
        try:
            result = Client(conns[i]).session(alice.token).create_backup(**args)
        except QuotaExceeded:
            return "quota"
        return "replayed" if result.replayed else "stored"

    workers = [Background(lambda i=i: write(i)) for i in range(len(conns))]  # type: ignore[misc]
    outcomes = [w.result() for w in workers]
    stored = su.execute("SELECT count(*) FROM zkeb.encrypted_backups WHERE user_id = %s",
                        [alice.user_id]).fetchone()
    assert stored is not None
    assert outcomes.count("stored") == stored[0] <= 5
    assert outcomes.count("stored") + outcomes.count("quota") + outcomes.count("replayed") == 12
    assert _consistent(su, alice) == 100 * stored[0]
    assert storage_drift(su) == []


# -- trash, restore, purge ------------------------------------------------------------


def test_trash_and_restore_keep_the_bytes_and_purge_gives_them_back(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    a = alice.create(size=300)
    b = alice.create(size=200)
    assert _consistent(su, alice) == 500

    alice.session.delete_backup(a["backup_id"])
    assert _consistent(su, alice) == 500
    usage = alice.session.storage_usage()
    assert (usage.storage_used_bytes, usage.backup_count, usage.trashed_count) == (500, 1, 1)
    assert [x.backup_id for x in alice.session.list_backups()] == [b["backup_id"]]
    trash = alice.session.list_backups(in_trash=True)
    assert [x.backup_id for x in trash] == [a["backup_id"]] and trash[0].deleted_at is not None
    with pytest.raises(NotFound):
        alice.session.get_backup(a["backup_id"])
    alice.session.delete_backup(a["backup_id"])  # already in the trash: no-op
    assert _consistent(su, alice) == 500

    alice.session.restore_backup(a["backup_id"])
    assert _consistent(su, alice) == 500
    assert alice.session.get_backup(a["backup_id"]).ciphertext == a["ciphertext"]
    alice.session.restore_backup(a["backup_id"])  # live already: no-op

    alice.session.purge_backup(a["backup_id"])
    assert _consistent(su, alice) == 200
    alice.session.delete_backup(b["backup_id"])
    alice.session.purge_backup(b["backup_id"])  # from the trash too
    assert _consistent(su, alice) == 0
    for call in (alice.session.get_backup, alice.session.delete_backup,
                 alice.session.restore_backup, alice.session.purge_backup):
        with pytest.raises(NotFound):
            call(a["backup_id"])
    actions = [r[0] for r in su.execute(
        "SELECT action FROM zkeb.audit_logs WHERE user_hash = zkeb_private.audit_user_hash(%s) "
        "AND action LIKE 'backup_%%' ORDER BY event_id", [alice.user_id]).fetchall()]
    assert actions == ["backup_create", "backup_create", "backup_delete", "backup_restore",
                       "backup_purge", "backup_delete", "backup_purge"]


def test_another_tenants_backup_looks_missing(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    bob = tenant("bob")
    bobs = bob.create(size=50)
    before = snapshot(su)
    for call in (alice.session.get_backup, alice.session.delete_backup,
                 alice.session.restore_backup, alice.session.purge_backup):
        answers = []
        for backup_id in (bobs["backup_id"], uuid.uuid4()):
            with pytest.raises(NotFound) as info:
                call(backup_id)
            answers.append((info.value.sqlstate, info.value.message, info.value.detail))
        assert answers[0] == answers[1]
        with pytest.raises(InvalidInput):
            call(None)  # type: ignore[arg-type]
    # Bob's id as Alice's own new backup id is simply a new backup of hers.
    mine = alice.backup(backup_id=bobs["backup_id"])
    assert alice.session.create_backup(**mine).replayed is False
    assert alice.session.list_backups(only_name_hash=h("file"))[0].backup_id == bobs["backup_id"]
    after = snapshot(su)
    assert after["encrypted_backups"] != before["encrypted_backups"]
    assert bob.session.get_backup(bobs["backup_id"]).ciphertext == bobs["ciphertext"]


def test_expired_backups_are_gone_for_every_call(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    live = alice.create(size=10)
    expiring = alice.create(size=20, expires_at=datetime.now(UTC) + timedelta(hours=1))
    trashed = alice.create(size=30, expires_at=datetime.now(UTC) + timedelta(hours=1))
    alice.session.delete_backup(trashed["backup_id"])
    su.execute("UPDATE zkeb.encrypted_backups SET expires_at = now() - interval '1 second' "
               "WHERE backup_id IN (%s, %s)", [expiring["backup_id"], trashed["backup_id"]])
    assert [b.backup_id for b in alice.session.list_backups()] == [live["backup_id"]]
    assert alice.session.list_backups(in_trash=True) == []
    for gone in (expiring, trashed):
        for call in (alice.session.get_backup, alice.session.delete_backup,
                     alice.session.restore_backup, alice.session.purge_backup):
            with pytest.raises(NotFound):
                call(gone["backup_id"])
    usage = alice.session.storage_usage()
    # Not counted as backups any more, still charged until cleanup removes them.
    assert (usage.backup_count, usage.trashed_count, usage.storage_used_bytes) == (1, 0, 60)
    _consistent(su, alice)


# -- list_backups -----------------------------------------------------------------------


def test_keyset_pages_cover_everything_once_in_order(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    ids = [alice.create(size=1, name=f"n{i % 3}")["backup_id"] for i in range(23)]
    # Several rows share one created_at (one transaction), so the id breaks ties.
    su.execute("UPDATE zkeb.encrypted_backups SET created_at = '2030-01-01T00:00:00Z' "
               "WHERE backup_id = ANY(%s)", [ids[5:12]])
    expected = [r[0] for r in su.execute(
        "SELECT backup_id FROM zkeb.encrypted_backups WHERE user_id = %s "
        "ORDER BY created_at DESC, backup_id DESC", [alice.user_id]).fetchall()]
    for page_size in (1, 4, 23, 1000):
        seen: list[uuid.UUID] = []
        before = None
        while True:
            page = alice.session.list_backups(
                page_size=page_size,
                before_created_at=before.created_at if before else None,
                before_id=before.backup_id if before else None)
            assert len(page) <= page_size
            seen += [b.backup_id for b in page]
            if len(page) < page_size:
                break
            before = page[-1]
        assert seen == expected, page_size
    assert [b.backup_id for b in alice.session.iter_backups(page_size=5)] == expected
    named = [b.backup_id for b in alice.session.iter_backups(page_size=2, only_name_hash=h("n1"))]
    assert named == [i for i in expected if ids.index(i) % 3 == 1]


def test_list_backups_rejects_bad_input_and_accepts_the_bounds(
    tenant: Callable[..., Tenant]
) -> None:
    alice = tenant("alice")
    cases: list[dict[str, Any]] = [
        {"page_size": 0}, {"page_size": 1001}, {"page_size": -1}, {"page_size": None},
        {"before_created_at": datetime.now(UTC)}, {"before_id": uuid.uuid4()},
        {"only_name_hash": b"x"}, {"in_trash": None},
    ]
    for kwargs in cases:
        with pytest.raises(InvalidInput):
            alice.session.list_backups(**kwargs)
    alice.create()
    assert len(alice.session.list_backups(page_size=1)) == 1
    assert len(alice.session.list_backups(page_size=1000)) == 1


def test_tenants_see_only_their_own_backups(tenant: Callable[..., Tenant]) -> None:
    alice = tenant("alice")
    bob = tenant("bob")
    # Identical natural keys on both sides.
    same_id = uuid.uuid4()
    a = alice.create(backup_id=same_id, name="same")
    b = bob.create(backup_id=same_id, name="same")
    assert [x.device_id for x in alice.session.list_backups()] == [alice.device_id]
    assert [x.device_id for x in bob.session.list_backups()] == [bob.device_id]
    assert alice.session.get_backup(same_id).ciphertext == a["ciphertext"]
    assert bob.session.get_backup(same_id).ciphertext == b["ciphertext"]
    alice.session.purge_backup(same_id)
    assert bob.session.get_backup(same_id).ciphertext == b["ciphertext"]


def test_get_backup_download_auditing_follows_the_setting(
    tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")
    args = alice.create()
    count = ("SELECT count(*) FROM zkeb.audit_logs WHERE user_hash = "
             "zkeb_private.audit_user_hash(%s) AND action = 'backup_download'")
    alice.session.get_backup(args["backup_id"])
    assert su.execute(count, [alice.user_id]).fetchone() == (0,)
    su.execute("UPDATE zkeb_private.settings SET audit_downloads = true")
    alice.session.get_backup(args["backup_id"])
    assert su.execute(count, [alice.user_id]).fetchone() == (1,)
