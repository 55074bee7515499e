"""list_audit_events: the caller's own chain, newest first, keyset pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from zkeb_api_testkit import Tenant, h

from zkeb_db.client import Client
from zkeb_db.errors import InvalidInput


def test_own_chain_newest_first_with_keyset_pages(
    client: Client, tenant: Callable[..., Tenant], su: psycopg.Connection[Any]
) -> None:
    alice = tenant("alice")          # register, login_ok, device_register
    bob = tenant("bob")
    client.login_status(alice.username_hash, h("wrong"))  # login_denied
    client.login_status(h("user:nobody"), h("wrong"))     # stored nowhere
    args = alice.create()            # backup_create
    alice.session.delete_backup(args["backup_id"])
    events = alice.session.list_audit_events()
    assert [e.action for e in events] == ["backup_delete", "backup_create", "login_denied",
                                          "device_register", "login_ok", "register"]
    assert [e.event_id for e in events] == [6, 5, 4, 3, 2, 1]
    assert [e.success for e in events] == [True, True, False, True, True, True]
    assert events[1].metadata == {"backup_id": str(args["backup_id"]), "size_bytes": 100}
    assert events[0].created_at >= events[-1].created_at
    # Bob's chain is numbered on its own and invisible to Alice.
    assert [e.event_id for e in bob.session.list_audit_events()] == [3, 2, 1]
    # Paging.
    pages: list[int] = []
    before = None
    while page := alice.session.list_audit_events(page_size=4, before_id=before):
        pages += [e.event_id for e in page]
        before = page[-1].event_id
    assert pages == [6, 5, 4, 3, 2, 1]
    assert alice.session.list_audit_events(before_id=1) == []
    total = su.execute("SELECT count(*) FROM zkeb.audit_logs").fetchone()
    assert total == (9,)


def test_list_audit_events_rejects_bad_input(tenant: Callable[..., Tenant]) -> None:
    alice = tenant("alice", device=False)
    cases: list[dict[str, Any]] = [{"page_size": 0}, {"page_size": 1001}, {"page_size": None},
                                   {"before_id": 0}, {"before_id": -5}]
    for kwargs in cases:
        with pytest.raises(InvalidInput):
            alice.session.list_audit_events(**kwargs)
    assert len(alice.session.list_audit_events(page_size=1)) == 1
    assert len(alice.session.list_audit_events(page_size=1000)) == 2
