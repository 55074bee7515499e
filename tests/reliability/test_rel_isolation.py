"""Group 3: tenant isolation and SECURITY DEFINER hardening.

Every attack below is counted (tried / succeeded) for docs/reliability.md:

- two tenants with identical natural keys (device_id_hash, public key,
  backup_name_hash, the same client-chosen backup_id, entity_hash, guardian
  hashes) stay separate;
- every API function that takes an id, called with the other tenant's id,
  answers exactly (SQLSTATE, message, detail, hint) what it answers for a
  random missing id, and changes nothing of the other tenant;
- every session function with no token, an empty token, malformed tokens of
  many lengths, forged tokens (the victim's user-id prefix + random secret),
  expired, logged-out and revoked-device tokens: ZK401 and nothing written;
- another tenant's user id (or a forged token, or "on") in every zkeb.* GUC
  and a few plausible others, by session SET, set_config(..., false) and SET
  LOCAL in the caller's transaction: results unchanged, no token still ZK401;
- as zkeb_app: direct table access, TRUNCATE, COPY, SET row_security = off,
  SET ROLE zkeb_owner, SET SESSION AUTHORIZATION, every zkeb_private and
  zkeb_maint function, DDL, pg_stats; the maintainer cannot read ciphertext
  or call the API; the auditor only verifies;
- a hostile schema ``evil`` (look-alike functions, operators, aggregates and
  tables) first on search_path, and temp tables shadowing the tables (as a
  role that has TEMP: the app role has none): a transcript of every API
  function is identical to the one from a clean session.

Each checker is also run against a planted bug (negative control) and must
report it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from relkit import (
    FIGURES,
    KDF,
    Outcome,
    Tenant,
    db_digest,
    h,
    invariant_violations,
    message_of,
    new_tenant,
    outcome,
    planted,
    sqlstate_of,
)

from zkeb_db.client import Client, Session
from zkeb_db.errors import ZkebError

GET_BACKUP = "zkeb_api.get_backup(bytea, uuid)"
BEGIN_SESSION = "zkeb_private.begin_session(bytea)"
CURRENT_USER_ID = "zkeb_private.current_user_id()"


def tenant_rows(su: psycopg.Connection[Any], user_id: uuid.UUID) -> list[Any]:
    """Everything stored for one tenant (audit chain included)."""
    out: list[Any] = []
    for table in ("users", "devices", "sessions", "encrypted_backups", "recovery_shares",
                  "sync_metadata"):
        out.append(su.execute(
            sql.SQL("SELECT x::text FROM zkeb.{} AS x WHERE x.user_id = %s ORDER BY 1").format(
                sql.Identifier(table)), [user_id]).fetchall())
    out.append(su.execute(
        "SELECT x::text FROM zkeb.audit_logs AS x "
        "WHERE x.user_hash = zkeb_private.audit_user_hash(%s) ORDER BY 1",
        [user_id]).fetchall())
    return out


def pair(client: Client, a_label: str = "alice", b_label: str = "bob"
         ) -> tuple[Tenant, Tenant]:
    """Two tenants with identical natural keys, each with a backup under the same id, one
    backup of their own, sync state on the same entity and recovery shares for the same
    guardians."""
    same_hash, same_key = h("shared-device"), bytes(range(32))
    a = new_tenant(client, a_label, device_id_hash=same_hash, public_key=same_key)
    b = new_tenant(client, b_label, device_id_hash=same_hash, public_key=same_key)
    shared_id = uuid.uuid4()
    for t in (a, b):
        assert t.device_id is not None
        t.create(backup_id=shared_id, name_hash=h("shared-name"))
        t.create(name_hash=h(f"own-{t.label}"))
        t.session.sync_push(h("shared-entity"), t.device_id, {str(t.device_id): 1}, 1,
                            f"payload-{t.label}".encode())
        t.session.store_recovery_shares(2, [h("g1"), h("g2")], [1, 2],
                                        [f"{t.label}1".encode(), f"{t.label}2".encode()])
    return a, b


def only_own(b_id: uuid.UUID, t: Tenant) -> list[uuid.UUID]:
    return [x for x in t.backups if x != b_id]


# --------------------------------------------------------------------------
# Identical natural keys
# --------------------------------------------------------------------------


def test_identical_natural_keys_stay_separate(db: Any) -> None:
    client = Client(db.connect("app"))
    su, maint = db.connect("super"), db.connect("maint")
    a, b = pair(client)
    assert a.device_id != b.device_id
    shared = [x for x in a.backups if x in b.backups]
    assert len(shared) == 1, "the same client-chosen backup_id must work for both tenants"
    leaks = []
    for me in (a, b):
        got = me.session.get_backup(shared[0])
        leaks.append(got.ciphertext != me.backups[shared[0]]["ciphertext"])
        listed = {r.backup_id for r in me.session.iter_backups(page_size=1)}
        leaks.append(listed != set(me.backups))
        pulled = me.session.sync_pull()
        leaks.append([(r.device_id, r.payload) for r in pulled]
                     != [(me.device_id, f"payload-{me.label}".encode())])
        shares = me.session.list_recovery_shares()
        leaks.append({s.encrypted_share for s in shares}
                     != {f"{me.label}1".encode(), f"{me.label}2".encode()})
        devices = me.session.list_devices()
        leaks.append([d.device_id for d in devices] != [me.device_id])
        usage = me.session.storage_usage()
        leaks.append(usage.storage_used_bytes
                     != sum(len(x["ciphertext"]) for x in me.backups.values()))
    # Purging the shared id in one tenant leaves the other's copy alone.
    before = tenant_rows(su, b.user_id)
    a.session.purge_backup(shared[0])
    leaks.append(tenant_rows(su, b.user_id) != before)
    leaks.append(b.session.get_backup(shared[0]).ciphertext != b.backups[shared[0]]["ciphertext"])
    for leaked in leaks:
        FIGURES.attack("identical natural keys", leaked)
    assert not any(leaks)
    assert invariant_violations(maint) == []


# --------------------------------------------------------------------------
# Another tenant's ids look exactly like missing ones
# --------------------------------------------------------------------------


Probe = tuple[str, Callable[[Any], Outcome]]


def foreign_id_probes(a: Tenant) -> tuple[list[Probe], list[Probe]]:
    """(backup-id probes, device-id probes): every API function that takes an id, as A."""
    s = a.session
    assert a.device_id is not None
    return [
        ("get_backup", lambda x: outcome(s.get_backup, x)),
        ("delete_backup", lambda x: outcome(s.delete_backup, x)),
        ("restore_backup", lambda x: outcome(s.restore_backup, x)),
        ("purge_backup", lambda x: outcome(s.purge_backup, x)),
    ], [
        ("revoke_device", lambda x: outcome(s.revoke_device, x)),
        ("create_backup(device_id)", lambda x: outcome(
            s.create_backup, **a.backup_args(device_id=x))),
        ("sync_push(device_id)", lambda x: outcome(
            s.sync_push, h("probe-entity"), x, {str(x): 1}, 10**6)),
        ("login(device_id)", lambda x: outcome(
            s.client.login_status, a.username_hash, a.auth_key, device_id=x)),
    ]


def check_foreign_ids(su: psycopg.Connection[Any], a: Tenant, b: Tenant) -> list[str]:
    findings = []
    b_only_backup = next(x for x in b.backups if x not in a.backups)
    assert b.device_id is not None
    backup_probes, device_probes = foreign_id_probes(a)
    for probes, foreign in ((backup_probes, b_only_backup), (device_probes, b.device_id)):
        for name, probe in probes:
            b_before = tenant_rows(su, b.user_id)
            got_foreign = probe(foreign)
            got_missing = probe(uuid.uuid4())
            leaked = False
            if got_foreign.ok != got_missing.ok or got_foreign.sqlstate != got_missing.sqlstate \
                    or got_foreign.message != got_missing.message:
                findings.append(f"{name}: another tenant's id answers {got_foreign}, a missing "
                                f"id answers {got_missing}")
                leaked = True
            if got_foreign.ok and name == "login(device_id)":
                if got_foreign.value.status != got_missing.value.status or \
                        got_foreign.value.status != "denied":
                    findings.append(f"{name}: {got_foreign.value} vs {got_missing.value}")
                    leaked = True
            elif got_foreign.ok:
                findings.append(f"{name}: another tenant's id was accepted: {got_foreign}")
                leaked = True
            if tenant_rows(su, b.user_id) != b_before:
                findings.append(f"{name}: the other tenant's rows changed")
                leaked = True
            FIGURES.attack("another tenant's id vs a missing id", leaked)
    # Listing filters and cursors with the other tenant's values return only A's rows.
    b_row = next(r for r in b.session.list_backups() if r.backup_id == b_only_backup)
    for name, call in (
        ("list_backups(only_name_hash=other's)", lambda: a.session.list_backups(
            only_name_hash=b.backups[b_only_backup]["backup_name_hash"])),
        ("list_backups(before=other's cursor)", lambda: a.session.list_backups(
            before_created_at=b_row.created_at, before_id=b_row.backup_id)),
        ("list_audit_events(before_id=huge)", lambda: a.session.list_audit_events(
            before_id=2**62)),
        ("sync_pull(after_seq=0)", lambda: a.session.sync_pull()),
    ):
        got = outcome(call)
        rows = got.value if got.ok else []
        text = repr(rows)
        leaked = (not got.ok) or str(b_only_backup) in text or str(b.device_id) in text \
            or f"payload-{b.label}".encode() in repr(rows).encode()
        if name.startswith("list_backups"):
            leaked = leaked or any(r.backup_id not in a.backups for r in rows)
        if leaked:
            findings.append(f"{name}: {got}")
        FIGURES.attack("another tenant's values in filters and cursors", leaked)
    return findings


def test_another_tenants_ids_look_like_missing_ones(db: Any) -> None:
    client = Client(db.connect("app"))
    su = db.connect("super")
    a, b = pair(client)
    assert check_foreign_ids(su, a, b) == []
    # Identical natural keys used by A are accepted, not refused as taken.
    assert a.session.register_device(h("shared-device"), bytes(range(32)), "ed25519") \
        == a.device_id
    # Negative control: get_backup grows an existence oracle (a superuser-owned helper that
    # sees every tenant tells it whether the id exists elsewhere).
    su.execute("CREATE FUNCTION public.zkeb_rel_oracle(x uuid) RETURNS boolean "
               "LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS "
               "'SELECT EXISTS (SELECT 1 FROM zkeb.encrypted_backups b WHERE b.backup_id = x)'")
    su.execute("GRANT EXECUTE ON FUNCTION public.zkeb_rel_oracle(uuid) TO zkeb_owner")
    with planted(su, GET_BACKUP, {
        "MESSAGE = 'no such backup'":
            "MESSAGE = CASE WHEN public.zkeb_rel_oracle(get_backup.backup_id) "
            "THEN 'no such backup.' ELSE 'no such backup' END"}):
        c, d = pair(client, "carol", "dave")
        findings = check_foreign_ids(su, c, d)
    FIGURES.control("isolation: get_backup tells another tenant's id from a missing one",
                    bool(findings), "; ".join(findings)[:300] or "no finding")
    assert findings


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------


def session_calls(a: Tenant) -> dict[str, Callable[[Session], Any]]:
    """One valid-looking call of every session function (only the token may be wrong)."""
    assert a.device_id is not None
    dev = a.device_id
    bid = next(iter(a.backups))
    return {
        "logout": lambda s: s.logout(),
        "whoami": lambda s: s.whoami(),
        "delete_account": lambda s: s.delete_account(),
        "register_device": lambda s: s.register_device(h("tok-dev"), bytes(32), "ed25519"),
        "revoke_device": lambda s: s.revoke_device(dev),
        "list_devices": lambda s: s.list_devices(),
        "create_backup": lambda s: s.create_backup(**a.backup_args()),
        "list_backups": lambda s: s.list_backups(),
        "get_backup": lambda s: s.get_backup(bid),
        "delete_backup": lambda s: s.delete_backup(bid),
        "restore_backup": lambda s: s.restore_backup(bid),
        "purge_backup": lambda s: s.purge_backup(bid),
        "storage_usage": lambda s: s.storage_usage(),
        "store_recovery_shares": lambda s: s.store_recovery_shares(
            2, [h("x"), h("y")], [1, 2], [b"1", b"2"]),
        "list_recovery_shares": lambda s: s.list_recovery_shares(),
        "sync_push": lambda s: s.sync_push(h("tok-entity"), dev, {str(dev): 99}, 99),
        "sync_pull": lambda s: s.sync_pull(),
        "list_audit_events": lambda s: s.list_audit_events(),
    }


def bad_tokens(client: Client, su: psycopg.Connection[Any], a: Tenant, b: Tenant
               ) -> dict[str, bytes | None]:
    tokens: dict[str, bytes | None] = {"NULL": None, "empty": b""}
    for n in (1, 2, 8, 15, 16, 17, 31, 32, 33, 47, 49, 50, 64, 95, 96, 97, 100, 4096, 100_000):
        tokens[f"random {n} bytes"] = os.urandom(n)
    tokens["48 random bytes"] = os.urandom(48)
    tokens["forged: victim's user id + random secret"] = b.user_id.bytes + os.urandom(32)
    tokens["forged: victim's user id + own secret"] = b.user_id.bytes + a.token[16:]
    tokens["forged: own user id + victim's secret"] = a.user_id.bytes + b.token[16:]
    tokens["victim's token, one bit flipped"] = bytes([b.token[0]]) + b.token[1:-1] + \
        bytes([b.token[-1] ^ 1])
    tokens["victim's token hash (what the table stores)"] = \
        __import__("hashlib").sha256(b.token).digest()
    tokens["victim's token, hex text as bytes"] = b.token.hex().encode()
    tokens["victim's token + one byte"] = b.token + b"\x00"
    tokens["victim's token minus one byte"] = b.token[:-1]
    # A's own sessions, ended three ways.
    out = client.login(a.username_hash, a.auth_key)
    out.logout()
    tokens["logged-out token"] = out.session_token
    exp = client.login(a.username_hash, a.auth_key)
    su.execute("UPDATE zkeb.sessions SET created_at = now() - interval '2 hours', "
               "expires_at = now() - interval '1 hour' WHERE token_hash = sha256(%s)",
               [exp.session_token])
    tokens["expired token"] = exp.session_token
    assert a.device_id is not None
    dev2 = a.session.register_device(h(f"to-revoke-{uuid.uuid4()}"), bytes(32), "ed25519")
    bound = client.login(a.username_hash, a.auth_key, device_id=dev2)
    a.session.revoke_device(dev2)
    tokens["token of a revoked device's session"] = bound.session_token
    return tokens


def check_tokens(client: Client, su: psycopg.Connection[Any], a: Tenant, b: Tenant
                 ) -> list[str]:
    findings = []
    tokens = bad_tokens(client, su, a, b)
    calls = session_calls(a)
    for tname, token in tokens.items():
        for fname, call in calls.items():
            before = db_digest(su)
            got = outcome(call, Session(client, token))
            changed = db_digest(su) != before
            leaked = got.ok or got.sqlstate != "ZK401" or changed
            if leaked:
                findings.append(f"{fname} with {tname}: {got}" + (" (wrote)" if changed else ""))
            FIGURES.attack("bad, forged, expired and revoked tokens", leaked)
    return findings


def test_every_session_function_refuses_bad_tokens(db: Any) -> None:
    client = Client(db.connect("app"))
    su = db.connect("super")
    a, b = pair(client)
    assert check_tokens(client, su, a, b) == []
    # Negative control: begin_session trusts the user id a token claims.
    with planted(su, BEGIN_SESSION, {
            "_uid := zkeb_private.current_user_id();": "_uid := zkeb_private.claimed_user_id();"}):
        findings = check_tokens(client, su, a, b)
    FIGURES.control("isolation: begin_session trusts the user id a token claims",
                    bool(findings), f"{len(findings)} findings, e.g. {findings[:1]}")
    assert findings


# --------------------------------------------------------------------------
# GUCs set by hand
# --------------------------------------------------------------------------


def read_calls(a: Tenant, b: Tenant) -> dict[str, Callable[[Session], Any]]:
    own = next(iter(a.backups))
    foreign = next(x for x in b.backups if x not in a.backups)
    return {
        "whoami": lambda s: s.whoami(),
        "list_backups": lambda s: s.list_backups(),
        "list_trash": lambda s: s.list_backups(in_trash=True),
        "list_devices": lambda s: s.list_devices(),
        "storage_usage": lambda s: s.storage_usage(),
        "list_recovery_shares": lambda s: s.list_recovery_shares(),
        "sync_pull": lambda s: s.sync_pull(),
        "list_audit_events": lambda s: s.list_audit_events(page_size=1000),
        "get_backup(own)": lambda s: s.get_backup(own),
        "get_backup(other's)": lambda s: s.get_backup(foreign),
        "delete_backup(other's)": lambda s: s.delete_backup(foreign),
        "purge_backup(other's)": lambda s: s.purge_backup(foreign),
    }


def deployed_gucs(su: psycopg.Connection[Any]) -> set[str]:
    """Every ``zkeb.*`` setting name the deployed functions mention (so a new context GUC
    is attacked without editing this test)."""
    found: set[str] = set()
    for (src,) in su.execute(
            "SELECT p.prosrc FROM pg_catalog.pg_proc p WHERE p.pronamespace IN "
            "('zkeb_api'::regnamespace, 'zkeb_private'::regnamespace, "
            "'zkeb_maint'::regnamespace)").fetchall():
        found.update(re.findall(r"'(zkeb\.[a-z_]+)'", src))
    return found


def guc_values(su: psycopg.Connection[Any], a: Tenant, b: Tenant) -> dict[str, str]:
    forged = (b.user_id.bytes + os.urandom(32)).hex()
    found = deployed_gucs(su)
    assert {"zkeb.session_token", "zkeb.lookup_user_id", "zkeb.maintenance"} <= found
    discovered = {name: ("on" if name.endswith(("maintenance", "reader", "purge")) else
                         str(b.user_id)) for name in found}
    return {
        **discovered,
        "zkeb.session_token": forged,
        "zkeb.lookup_user_id": str(b.user_id),
        "zkeb.lookup_username_hash": b.username_hash.hex(),
        "zkeb.maintenance": "on",
        "zkeb.audit_reader": "on",
        "zkeb.audit_purge": "on",
        "zkeb.user_id": str(b.user_id),
        "zkeb.current_user_id": str(b.user_id),
        "zkeb.tenant_id": str(b.user_id),
        "app.current_user_id": str(b.user_id),
        "request.jwt.claim.sub": str(b.user_id),
    }


def in_savepoint(conn: psycopg.Connection[Any], fn: Callable[..., Any], *args: Any) -> Outcome:
    """``outcome(fn, *args)``; inside a savepoint when ``conn`` is in a transaction."""
    if conn.autocommit:
        return outcome(fn, *args)
    try:
        with conn.transaction():
            return Outcome(True, fn(*args))
    except (ZkebError, psycopg.Error) as exc:
        return Outcome(False, None, sqlstate_of(exc), message_of(exc))


def guc_baseline(db: Any, a: Tenant, b: Tenant) -> dict[str, Any]:
    """The answers of a clean session (taken before any bug is planted)."""
    conn = db.connect("app")
    session = Session(Client(conn), a.token)
    out: dict[str, Any] = {name: outcome(call, session)
                           for name, call in read_calls(a, b).items()}
    out["prelogin"] = Client(conn).prelogin(b.username_hash)
    return out


def check_gucs(db: Any, su: psycopg.Connection[Any], a: Tenant, b: Tenant,
               baseline: dict[str, Any]) -> list[str]:
    findings = []
    reads = read_calls(a, b)
    b_before = tenant_rows(su, b.user_id)
    for guc, value in guc_values(su, a, b).items():
        for mode in ("SET", "set_config(false)", "SET LOCAL in the caller's transaction"):
            conn = db.connect("app", autocommit=(mode != "SET LOCAL in the caller's transaction"))
            if mode == "SET":
                conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(*guc.split(".")),
                                                            sql.Literal(value)))
            elif mode == "set_config(false)":
                conn.execute("SELECT pg_catalog.set_config(%s, %s, false)", [guc, value])
            else:
                conn.execute(sql.SQL("SET LOCAL {} = {}").format(
                    sql.Identifier(*guc.split(".")), sql.Literal(value)))
            client = Client(conn)
            session = Session(client, a.token)
            nobody = Session(client, None)
            for name, call in reads.items():
                # In the caller's transaction each call gets its own savepoint: an error
                # must not end the transaction (and with it the SET LOCAL).
                got = in_savepoint(conn, call, session)
                leaked = got != baseline[name]
                if leaked:
                    findings.append(f"{guc}={value[:12]}.. ({mode}): {name} answered {got}, "
                                    f"clean session {baseline[name]}")
                FIGURES.attack("another tenant's id in a GUC (session, set_config, SET LOCAL)",
                               leaked)
                if name in ("whoami", "list_backups", "sync_pull", "list_devices"):
                    anon = in_savepoint(conn, call, nobody)
                    leaked = anon.ok or anon.sqlstate != "ZK401"
                    if leaked:
                        findings.append(f"{guc} ({mode}): {name} with no token: {anon}")
                    FIGURES.attack("another tenant's id in a GUC, no token", leaked)
            # Pre-session calls with the GUCs in place.
            pre = [
                outcome(client.prelogin, b.username_hash).value == baseline["prelogin"],
                outcome(client.login_status, b.username_hash, h("wrong")).value.status
                in ("denied", "locked"),
            ]
            for ok in pre:
                FIGURES.attack("another tenant's id in a GUC, pre-session calls", not ok)
                if not ok:
                    findings.append(f"{guc} ({mode}): prelogin/login answered differently")
            if not conn.autocommit:
                conn.rollback()
            conn.close()
    # The other tenant's rows: only the failed logins above may have touched them
    # (counter + audit events), nothing else.
    after = tenant_rows(su, b.user_id)
    for i in (1, 2, 3, 4, 5):   # devices, sessions, backups, shares, sync
        if after[i] != b_before[i]:
            findings.append(f"the other tenant's rows changed (table #{i})")
    return findings


def test_tenant_gucs_set_by_hand_change_nothing(db: Any) -> None:
    client = Client(db.connect("app"))
    su = db.connect("super")
    a, b = pair(client)
    baseline = guc_baseline(db, a, b)
    assert check_gucs(db, su, a, b, baseline) == []
    # Negative control: the tenant helper trusts a hand-set zkeb.user_id.
    with planted(su, CURRENT_USER_ID, {
            "RETURN _uid;": "RETURN COALESCE(NULLIF(pg_catalog.current_setting("
                            "'zkeb.user_id', true), '')::uuid, _uid);"}):
        findings = check_gucs(db, su, a, b, baseline)
    FIGURES.control("isolation: current_user_id() trusts a hand-set GUC", bool(findings),
                    f"{len(findings)} findings, e.g. {findings[:1]}")
    assert findings


# --------------------------------------------------------------------------
# Direct access as the application role (and the other roles)
# --------------------------------------------------------------------------

TABLES = ("zkeb.users", "zkeb.devices", "zkeb.sessions", "zkeb.encrypted_backups",
          "zkeb.recovery_shares", "zkeb.sync_metadata", "zkeb.audit_logs",
          "zkeb_private.settings")


def direct_attempts(su: psycopg.Connection[Any], victim: Tenant
                    ) -> list[tuple[str, str, str]]:
    """(category, description, SQL) of everything the app role must not be able to do."""
    uid = str(victim.user_id)
    out: list[tuple[str, str, str]] = []
    for t in TABLES:
        out += [
            ("direct table access", f"SELECT {t}", f"SELECT * FROM {t}"),
            ("direct table access", f"UPDATE {t}", f"UPDATE {t} SET user_id = user_id"
             if not t.endswith("settings") else f"UPDATE {t} SET id = id"),
            ("direct table access", f"DELETE {t}", f"DELETE FROM {t}"),
            ("direct table access", f"INSERT {t}", f"INSERT INTO {t} DEFAULT VALUES"),
            ("TRUNCATE", f"TRUNCATE {t}", f"TRUNCATE {t}"),
            ("COPY", f"COPY {t} TO STDOUT", f"COPY {t} TO STDOUT"),
            ("COPY", f"COPY (SELECT) {t}", f"COPY (SELECT * FROM {t}) TO STDOUT"),
            ("direct table access", f"LOCK {t}", f"LOCK TABLE {t} IN ACCESS SHARE MODE"),
            ("row_security = off", f"SET row_security = off; SELECT {t}",
             f"SET row_security = off; SELECT * FROM {t}"),
            ("DDL", f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY",
             f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY"),
            ("DDL", f"GRANT SELECT ON {t}", f"GRANT SELECT ON {t} TO zkeb_app"),
            ("DDL", f"CREATE POLICY on {t}",
             f"CREATE POLICY zkeb_rel_evil ON {t} FOR SELECT TO zkeb_app USING (true)"),
        ]
    out += [
        ("SET ROLE", "SET ROLE zkeb_owner", "SET ROLE zkeb_owner"),
        ("SET ROLE", "SET ROLE zkeb_maintainer", "SET ROLE zkeb_maintainer"),
        ("SET ROLE", "SET ROLE zkeb_auditor", "SET ROLE zkeb_auditor"),
        ("SET ROLE", "SET ROLE postgres", "SET ROLE postgres"),
        ("SET ROLE", "SET SESSION AUTHORIZATION postgres", "SET SESSION AUTHORIZATION postgres"),
        ("DDL", "CREATE TABLE", "CREATE TABLE public.zkeb_rel_x (a int)"),
        ("DDL", "CREATE TEMP TABLE", "CREATE TEMP TABLE zkeb_rel_x (a int)"),
        ("DDL", "CREATE SCHEMA", "CREATE SCHEMA zkeb_rel_x"),
        ("DDL", "CREATE FUNCTION in public",
         "CREATE FUNCTION public.zkeb_rel_f() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
        ("DDL", "CREATE FUNCTION in zkeb_api",
         "CREATE FUNCTION zkeb_api.zkeb_rel_f() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
        ("server files", "pg_read_file", "SELECT pg_catalog.pg_read_file('PG_VERSION')"),
        ("server files", "COPY FROM PROGRAM", "COPY (SELECT 1) TO PROGRAM 'true'"),
        ("direct table access", "zkeb_private.settings()",
         "SELECT * FROM zkeb_private.settings()"),
        ("direct table access", "EXPLAIN SELECT users",
         f"EXPLAIN SELECT * FROM zkeb.users WHERE user_id = '{uid}'"),
    ]
    funcs = su.execute(
        "SELECT p.oid::regprocedure::text, p.pronargs FROM pg_catalog.pg_proc p "
        "WHERE p.pronamespace IN ('zkeb_private'::regnamespace, 'zkeb_maint'::regnamespace) "
        "ORDER BY 1").fetchall()
    for sig, nargs in funcs:
        name = sig.split("(")[0]
        args = ", ".join(["NULL"] * nargs)
        schema = "zkeb_private/zkeb_maint function"
        if sig.endswith("trigger") or "append_only" in sig:
            continue
        out.append((schema, f"{sig}", f"SELECT {name}({args})"))
    return out


def run_direct(conn: psycopg.Connection[Any], statement: str) -> Outcome:
    try:
        with conn.transaction():
            rows: list[Any] = []
            for part in statement.split("; "):
                cur = conn.execute(part)
                if cur.description is not None:
                    rows = cur.fetchall()
            conn.execute("RESET ALL")
            return Outcome(True, rows)
    except psycopg.Error as exc:
        return Outcome(False, None, exc.diag.sqlstate, (exc.diag.message_primary, None, None))


def check_direct(db: Any, su: psycopg.Connection[Any], victim: Tenant) -> list[str]:
    findings = []
    app = db.connect("app")
    for category, what, statement in direct_attempts(su, victim):
        before = db_digest(su)
        got = run_direct(app, statement)
        changed = db_digest(su) != before
        leaked = got.ok or changed
        if leaked:
            findings.append(f"zkeb_app: {what}: {got}")
        FIGURES.attack(f"as zkeb_app: {category}", leaked)
    # COPY FROM STDIN (client-side data) into every table.
    for t in TABLES:
        try:
            with app.transaction(), app.cursor() as cur, cur.copy(f"COPY {t} FROM STDIN") as cp:
                cp.write(b"")
            leaked = True
        except psycopg.Error:
            leaked = False
        if leaked:
            findings.append(f"zkeb_app: COPY {t} FROM STDIN succeeded")
        FIGURES.attack("as zkeb_app: COPY", leaked)
    # Statistics views must not show tenant data either.
    rows = app.execute("SELECT schemaname, tablename, attname, most_common_vals::text "
                       "FROM pg_catalog.pg_stats WHERE schemaname LIKE 'zkeb%'").fetchall()
    FIGURES.attack("as zkeb_app: pg_stats", bool(rows))
    if rows:
        findings.append(f"zkeb_app sees pg_stats of zkeb tables: {rows[:3]}")
    # The maintainer cannot read ciphertext or call the API; the auditor only verifies.
    maint, auditor = db.connect("maint"), db.connect("auditor")
    bid = next(iter(victim.backups))
    for who, conn, statement in (
        ("maintainer", maint, "SELECT ciphertext FROM zkeb.encrypted_backups"),
        ("maintainer", maint, "COPY zkeb.encrypted_backups TO STDOUT"),
        ("maintainer", maint, f"SELECT * FROM zkeb_api.get_backup('\\x00'::bytea, '{bid}')"),
        ("maintainer", maint, "SET ROLE zkeb_owner"),
        ("auditor", auditor, "SELECT * FROM zkeb_maint.check_invariants()"),
        ("auditor", auditor, "SELECT * FROM zkeb_maint.cleanup_expired_backups()"),
        ("auditor", auditor, "SELECT * FROM zkeb.audit_logs"),
        ("auditor", auditor, "SELECT * FROM zkeb_api.whoami('\\x00'::bytea)"),
    ):
        before = db_digest(su)
        got = run_direct(conn, statement)
        leaked = got.ok or db_digest(su) != before
        if leaked:
            findings.append(f"{who}: {statement}: {got}")
        FIGURES.attack(f"as {who}: beyond its grants", leaked)
    return findings


def test_app_role_can_touch_nothing_directly(db: Any) -> None:
    client = Client(db.connect("app"))
    su = db.connect("super")
    a, _ = pair(client)
    su.execute("ANALYZE")
    assert check_direct(db, su, a) == []
    # Negative control: two stray grants (schema USAGE, and TRUNCATE, which row security
    # does not cover; either alone is not enough, which the run above also shows).
    su.execute("GRANT USAGE ON SCHEMA zkeb TO zkeb_app")
    su.execute("GRANT TRUNCATE ON zkeb.sync_metadata TO zkeb_app")
    with FIGURES.negative_control():
        findings = check_direct(db, su, a)
    su.execute("REVOKE TRUNCATE ON zkeb.sync_metadata FROM zkeb_app")
    su.execute("REVOKE USAGE ON SCHEMA zkeb FROM zkeb_app")
    FIGURES.control("isolation: stray GRANT USAGE ON SCHEMA zkeb + TRUNCATE to zkeb_app",
                    bool(findings),
                    "; ".join(findings)[:300] or "no finding")
    assert findings


# --------------------------------------------------------------------------
# Hostile search_path and temp tables
# --------------------------------------------------------------------------

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX_RE = re.compile(r"(?:\\x)?[0-9a-f]{32,}")
TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}(?::?\d{2})?|Z)?")


class Normalizer:
    """Replaces ids, tokens, hashes and times by placeholders numbered by first sight, so
    two runs of the same script with different tenants compare equal."""

    def __init__(self) -> None:
        self.seen: dict[Any, str] = {}

    def _ph(self, kind: str, value: Any) -> str:
        if value not in self.seen:
            self.seen[value] = f"<{kind}{len(self.seen)}>"
        return self.seen[value]

    def __call__(self, v: Any) -> Any:
        if isinstance(v, uuid.UUID):
            return self._ph("id", str(v))
        if isinstance(v, bytes | bytearray | memoryview):
            b = bytes(v)
            return self._ph("bytes", b.hex()) if len(b) >= 8 else b
        if isinstance(v, dt.datetime | dt.timedelta):
            return "<time>"
        if isinstance(v, str):
            v = TS_RE.sub("<time>", v)
            v = UUID_RE.sub(lambda m: self._ph("id", m.group(0)), v)
            return HEX_RE.sub(lambda m: self._ph("bytes", m.group(0).removeprefix("\\x")), v)
        if isinstance(v, dict):
            return {self(k): self(x) for k, x in sorted(v.items())}
        if isinstance(v, list | tuple):
            return [self(x) for x in v]
        if isinstance(v, Outcome):
            return ("ok", self(v.value)) if v.ok else ("error", v.sqlstate, self(v.message))
        if hasattr(v, "__dataclass_fields__"):
            return {k: self(getattr(v, k)) for k in v.__dataclass_fields__}
        return v


def api_transcript(conn: psycopg.Connection[Any], label: str, other: Tenant) -> list[Any]:
    """Every zkeb_api function, in a fixed script, through ``conn``; normalized answers."""
    client = Client(conn)
    log: list[Any] = []
    norm = Normalizer()

    def step(name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Outcome:
        got = outcome(fn, *args, **kwargs)
        log.append((name, norm(got)))
        return got

    uh, key = h(f"tx-user-{label}"), h(f"tx-key-{label}")
    step("prelogin unknown", client.prelogin, uh)
    step("register_user", client.register_user, uh, h("tx-salt"), key, KDF)
    step("register_user taken", client.register_user, uh, h("tx-salt"), key, KDF)
    step("prelogin", client.prelogin, uh)
    step("login wrong key", client.login_status, uh, h("wrong"))
    step("login other's device", client.login_status, uh, key, device_id=other.device_id)
    got = step("login", client.login_status, uh, key)
    s = Session(client, got.value.session_token)
    dev = step("register_device", s.register_device, h("tx-dev"), bytes(32), "ed25519").value
    step("register_device retry", s.register_device, h("tx-dev"), bytes(32), "ed25519")
    step("register_device same hash as other", s.register_device, h("shared-device"),
         bytes(range(32)), "ed25519")
    dev2 = step("register_device rsa", s.register_device, h("tx-dev2"), bytes(550),
                "rsa-4096").value
    step("list_devices", s.list_devices)
    ids = [uuid.UUID(int=(i + 1) << 64 | int(label.encode().hex()[:8], 16)) for i in range(4)]
    args = [dict(backup_id=ids[i], device_id=dev, backup_name_hash=h(f"tx-name-{i % 2}"),
                 ciphertext=f"ciphertext {i}".encode() * (i + 1), nonce=bytes(12),
                 auth_tag=bytes(16), signature=bytes(64)) for i in range(4)]
    for i in range(4):
        step(f"create_backup {i}", s.create_backup, **args[i])
    step("create_backup retry", s.create_backup, **args[0])
    step("create_backup other content", s.create_backup, **{**args[0], "nonce": b"x" * 12})
    step("create_backup other's device", s.create_backup,
         **{**args[0], "backup_id": uuid.uuid4(), "device_id": other.device_id})
    step("create_backup bad signature", s.create_backup,
         **{**args[1], "backup_id": uuid.uuid4(), "signature": bytes(63)})
    page = step("list_backups page 1", s.list_backups, page_size=2).value
    step("list_backups page 2", s.list_backups, page_size=2,
         before_created_at=page[-1].created_at, before_id=page[-1].backup_id)
    step("list_backups by name", s.list_backups, only_name_hash=h("tx-name-1"))
    step("get_backup", s.get_backup, ids[0])
    step("get_backup other's", s.get_backup, next(iter(other.backups)))
    step("delete_backup", s.delete_backup, ids[1])
    step("delete_backup again", s.delete_backup, ids[1])
    step("list trash", s.list_backups, in_trash=True)
    step("get_backup trashed", s.get_backup, ids[1])
    step("restore_backup", s.restore_backup, ids[1])
    step("purge_backup", s.purge_backup, ids[2])
    step("purge_backup again", s.purge_backup, ids[2])
    step("storage_usage", s.storage_usage)
    step("whoami", s.whoami)
    step("store_recovery_shares", s.store_recovery_shares, 2, [h("g1"), h("g2"), h("g3")],
         [1, 2, 3], [b"s1", b"s2", b"s3"])
    step("store_recovery_shares bad", s.store_recovery_shares, 3, [h("g1")], [1], [b"s1"])
    step("list_recovery_shares", s.list_recovery_shares)
    e, k1, k2 = h("tx-entity"), str(dev), str(dev2)
    step("sync_push", s.sync_push, e, dev, {k1: 1}, 1, b"v1")
    step("sync_push retry", s.sync_push, e, dev, {k1: 1}, 1, b"v1")
    step("sync_push dominating", s.sync_push, e, dev, {k1: 2}, 2, b"v2")
    step("sync_push concurrent", s.sync_push, e, dev2, {k2: 1}, 1, b"w1")
    step("sync_push stale", s.sync_push, e, dev, {k1: 1}, 3, b"old")
    step("sync_push lamport back", s.sync_push, e, dev, {k1: 5}, 1, b"back")
    step("sync_push merge", s.sync_push, e, dev, {k1: 3, k2: 1}, 4, b"merged")
    step("sync_pull", s.sync_pull)
    step("sync_pull after", s.sync_pull, after_seq=2, page_size=1)
    step("list_audit_events", s.list_audit_events, page_size=100)
    step("list_audit_events before", s.list_audit_events, page_size=3, before_id=5)
    step("revoke_device", s.revoke_device, dev2)
    step("revoke_device again", s.revoke_device, dev2)
    step("revoke_device other's", s.revoke_device, other.device_id)
    step("list_devices after revoke", s.list_devices)
    step("logout", s.logout)
    step("whoami after logout", s.whoami)
    got2 = step("login again", client.login_status, uh, key, device_id=dev)
    s2 = Session(client, got2.value.session_token)
    step("delete_account", s2.delete_account)
    step("whoami after delete", s2.whoami)
    step("login after delete", client.login_status, uh, key)
    return log


EVIL_SQL = r"""
CREATE SCHEMA evil;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
-- Tables named like ours, full of rows that would change any answer.
CREATE TABLE evil.users AS SELECT gen_random_uuid() AS user_id, 1 AS storage_used_bytes;
CREATE TABLE evil.sessions AS SELECT gen_random_uuid() AS user_id;
CREATE TABLE evil.devices AS SELECT gen_random_uuid() AS device_id;
CREATE TABLE evil.encrypted_backups AS SELECT gen_random_uuid() AS backup_id;
CREATE TABLE evil.settings AS SELECT 1 AS max_backup_bytes;
CREATE TABLE evil.audit_logs AS SELECT 1 AS event_id;
CREATE TABLE evil.pg_class AS SELECT 1 AS oid;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA evil TO PUBLIC;
-- Functions named like the built-ins the API uses.
CREATE FUNCTION evil.set_config(text, text, boolean) RETURNS text LANGUAGE sql AS 'SELECT ''''';
CREATE FUNCTION evil.current_setting(text) RETURNS text LANGUAGE sql AS 'SELECT ''on''';
CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql
    AS 'SELECT ''on''';
CREATE FUNCTION evil.sha256(bytea) RETURNS bytea LANGUAGE sql
    AS 'SELECT ''\x00000000000000000000000000000000000000000000000000000000000000ff''::bytea';
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS 'SELECT ''2000-01-01''::timestamptz';
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE sql
    AS 'SELECT ''2000-01-01''::timestamptz';
CREATE FUNCTION evil.octet_length(bytea) RETURNS integer LANGUAGE sql AS 'SELECT 32';
CREATE FUNCTION evil.gen_random_uuid() RETURNS uuid LANGUAGE sql
    AS 'SELECT ''00000000-0000-4000-8000-000000000001''::uuid';
CREATE FUNCTION evil.encode(bytea, text) RETURNS text LANGUAGE sql AS 'SELECT ''00''';
CREATE FUNCTION evil.decode(text, text) RETURNS bytea LANGUAGE sql AS 'SELECT ''\x00''::bytea';
CREATE FUNCTION evil.uuid_send(uuid) RETURNS bytea LANGUAGE sql AS 'SELECT ''\x00''::bytea';
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS 'SELECT ''object''';
CREATE FUNCTION evil.pg_has_role(name, text, text) RETURNS boolean LANGUAGE sql
    AS 'SELECT true';
CREATE FUNCTION evil.pg_has_role(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE FUNCTION evil.substr(text, integer, integer) RETURNS text LANGUAGE sql AS 'SELECT ''0''';
CREATE FUNCTION evil.cardinality(anyarray) RETURNS integer LANGUAGE sql AS 'SELECT 2';
CREATE FUNCTION evil.current_user_id() RETURNS uuid LANGUAGE sql
    AS 'SELECT ''00000000-0000-4000-8000-000000000001''::uuid';
CREATE AGGREGATE evil.count(*) (sfunc = int8inc, stype = int8, initcond = '41');
CREATE AGGREGATE evil.sum(bigint) (sfunc = int8pl, stype = int8, initcond = '41');
-- Operators that answer the opposite.
CREATE FUNCTION evil.ne_uuid(uuid, uuid) RETURNS boolean LANGUAGE sql AS 'SELECT $1 <> $2';
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.ne_uuid);
CREATE FUNCTION evil.ne_bytea(bytea, bytea) RETURNS boolean LANGUAGE sql AS 'SELECT $1 <> $2';
CREATE OPERATOR evil.= (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = evil.ne_bytea);
CREATE FUNCTION evil.ne_text(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT $1 <> $2';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.ne_text);
CREATE FUNCTION evil.yes_int(integer, integer) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.<> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.yes_int);
CREATE OPERATOR evil.> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.yes_int);
CREATE FUNCTION evil.no_bigint(bigint, bigint) RETURNS boolean LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR evil.<= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.no_bigint);
CREATE OPERATOR evil.< (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.no_bigint);
CREATE FUNCTION evil.no_ts(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql
    AS 'SELECT false';
CREATE OPERATOR evil.> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.no_ts);
CREATE OPERATOR evil.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.no_ts);
CREATE FUNCTION evil.cat(bytea, bytea) RETURNS bytea LANGUAGE sql AS 'SELECT $1';
CREATE OPERATOR evil.|| (LEFTARG = bytea, RIGHTARG = bytea, FUNCTION = evil.cat);
CREATE FUNCTION evil.nomatch(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT false';
CREATE OPERATOR evil.!~ (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.nomatch);
CREATE FUNCTION evil.match(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.~ (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.match);
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evil TO PUBLIC;
"""

TEMP_SHADOWS = """
CREATE TEMP TABLE users AS SELECT gen_random_uuid() AS user_id, 1 AS storage_used_bytes;
CREATE TEMP TABLE sessions AS SELECT gen_random_uuid() AS user_id;
CREATE TEMP TABLE devices AS SELECT gen_random_uuid() AS device_id;
CREATE TEMP TABLE encrypted_backups AS SELECT gen_random_uuid() AS backup_id;
CREATE TEMP TABLE settings AS SELECT 1 AS max_backup_bytes;
CREATE TEMP TABLE audit_logs AS SELECT 1 AS event_id;
CREATE TEMP TABLE sync_metadata AS SELECT 1 AS seq;
CREATE TEMP TABLE recovery_shares AS SELECT 1 AS share_index;
CREATE TEMP TABLE pg_namespace AS SELECT 1 AS oid;
CREATE TEMP TABLE pg_class AS SELECT 1 AS oid;
CREATE TEMP TABLE pg_proc AS SELECT 1 AS oid;
CREATE TEMP TABLE pg_settings AS SELECT 'x' AS name;
"""

HOSTILE_PATHS = ("evil, public", "evil, pg_catalog, public", "pg_temp, evil, pg_catalog, public")


def hostile_transcripts(db: Any, su: psycopg.Connection[Any], other: Tenant,
                        baseline: list[Any], tag: str) -> list[str]:
    findings = []
    for n, path in enumerate(HOSTILE_PATHS):
        conn = db.connect("app")
        if path.startswith("pg_temp"):
            for stmt in TEMP_SHADOWS.strip().splitlines():
                conn.execute(stmt)
        conn.execute(sql.SQL("SET search_path = {}").format(sql.SQL(path)))
        got = api_transcript(conn, f"{tag}{n}", other)
        diffs = [(b, g) for b, g in zip(baseline, got, strict=True) if b != g]
        FIGURES.attack("hostile search_path / temp shadowing: whole-API transcript", bool(diffs))
        FIGURES.add("isolation", "hostile_transcript_calls", len(got))
        if diffs:
            findings.append(f"search_path {path}: {len(diffs)} answers differ, first: "
                            f"{diffs[0][0]} vs {diffs[0][1]}")
        conn.close()
    return findings


def test_hostile_schema_and_temp_tables_change_no_answer(db: Any) -> None:
    app = db.connect("app")
    su = db.connect("super")
    maint = db.connect("maint")
    _, other = pair(Client(app))
    baseline = api_transcript(app, "base", other)
    # Sanity: the script exercises errors and successes, and the other tenant shows up
    # only as refusals.
    assert any(x[1][0] == "error" for x in baseline) and any(x[1][0] == "ok" for x in baseline)
    # The app role has no TEMP; the temp-table part runs as a role that has it.
    no_temp = run_direct(app, "CREATE TEMP TABLE zkeb_rel_t (a int)")
    FIGURES.attack("as zkeb_app: DDL", no_temp.ok)
    assert not no_temp.ok and no_temp.sqlstate == "42501", no_temp
    for stmt in EVIL_SQL.split(";\n"):
        if stmt.strip():
            su.execute(stmt.encode())
    su.execute(sql.SQL("GRANT TEMPORARY ON DATABASE {} TO zkeb_test_app").format(
        sql.Identifier(db.name)))
    try:
        findings = hostile_transcripts(db, su, other, baseline, "h")
        assert findings == []
        assert invariant_violations(maint) == []
        # Negative control: one API function loses its pinned search_path.
        su.execute("ALTER FUNCTION zkeb_api.list_devices(bytea) RESET search_path")
        with FIGURES.negative_control():
            control = hostile_transcripts(db, su, other, baseline, "c")
        su.execute("ALTER FUNCTION zkeb_api.list_devices(bytea) "
                   "SET search_path = pg_catalog, pg_temp")
    finally:
        su.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM zkeb_test_app").format(
            sql.Identifier(db.name)))
    FIGURES.control("isolation: list_devices without a pinned search_path", bool(control),
                    "; ".join(control)[:300] or "no finding")
    assert control

