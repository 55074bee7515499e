"""Group 5: bad input for every API function.

For each of the 21 ``zkeb_api`` functions, hypothesis draws calls in which at
least one argument breaks a rule while having the right SQL type: NULLs,
wrong lengths, empty and huge byte strings, negative and out-of-range
numbers, JSON of the wrong shape, too big or deeply nested, vector clocks with
bad keys or values, wrong array shapes (empty, two-dimensional, ragged
lengths, NULL elements, duplicates), timestamps in the past, bad tokens.
Every call must end in a ``ZK`` SQLSTATE (never 23xxx, XX000 or any other
raw error, never a lost connection) and leave every table (row counts and an
md5 over every row, ``storage_used_bytes`` included) exactly as it was.

The calls run the client's own statements (``zkeb_db/sql/api/*.sql``: every
argument named and cast) through ``zkeb_db.errors.wrap_errors``, so shapes
the typed client methods cannot express (a JSON array as a vector clock) are
covered too. Input that fails the cast before the function runs (invalid
uuid text, unparsable JSON, integer overflow) is checked separately through
the client methods: it must arrive as ``InvalidInput``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from importlib import resources
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb
from relkit import (
    API_FUNCTIONS,
    FIGURES,
    KDF,
    Outcome,
    Tenant,
    db_digest,
    h,
    message_of,
    new_tenant,
    set_settings,
    sqlstate_of,
)

from zkeb_db.client import Client, Session
from zkeb_db.errors import InvalidInput, ZkebError, wrap_errors

MAX_BACKUP = 4096       # settings.max_backup_bytes in this test's database
MAX_PAYLOAD = 1024      # settings.max_sync_payload_bytes
HUGE = 300_000          # a "huge" byte string


@pytest.fixture(scope="module")
def bad_db(pg_server: str, template_db: Any) -> Iterator[dict[str, Any]]:
    """One clone for the whole module (hypothesis runs many examples per test)."""
    name = f"zkeb_rel_bad_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template_db.name)))
        conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
            sql.Identifier(name)))
    dsn = make_conninfo(pg_server, dbname=name)
    params = {k: v for k, v in conninfo_to_dict(pg_server).items() if k != "password"}
    app_dsn = make_conninfo("", **{**params, "dbname": name, "user": "zkeb_test_app"})
    su = psycopg.connect(dsn, autocommit=True)
    app = psycopg.connect(app_dsn, autocommit=True)
    try:
        set_settings(su, max_backup_bytes=MAX_BACKUP, max_sync_payload_bytes=MAX_PAYLOAD)
        client = Client(app)
        a = new_tenant(client, "bad-a")
        b = new_tenant(client, "bad-b")
        for t in (a, b):
            t.create(size=100)
            assert t.device_id is not None
            t.session.sync_push(h("e"), t.device_id, {str(t.device_id): 1}, 1, b"p")
        yield {"su": su, "app": app, "client": client, "a": a, "b": b}
    finally:
        su.close()
        app.close()
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def statement(function: str) -> str:
    return resources.files("zkeb_db").joinpath("sql", "api", f"{function}.sql").read_text()


class RawJson:
    """JSON text sent as it is (deep nesting built without Python recursion)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJson({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def adapt(function: str, params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    for key in ("kdf_params", "vector_clock"):
        if key in out:
            v = out[key]
            if isinstance(v, RawJson):
                out[key] = Jsonb(v, dumps=lambda o: o.text)
            elif v is not SQL_NULL:
                out[key] = Jsonb(v)
            else:
                out[key] = None
    return out


SQL_NULL = object()   # a SQL NULL for a jsonb argument (Python None means JSON null)


def call(conn: psycopg.Connection[Any], function: str, params: dict[str, Any]) -> Outcome:
    try:
        with wrap_errors():
            rows = conn.execute(statement(function), adapt(function, params)).fetchall()
        return Outcome(True, rows)
    except (ZkebError, psycopg.Error) as exc:
        return Outcome(False, None, sqlstate_of(exc), message_of(exc))


# --------------------------------------------------------------------------
# Bad values of the right type
# --------------------------------------------------------------------------

huge_bytes = st.just(b"\xab" * HUGE)
bad_hash32 = st.one_of(st.none(), st.binary(max_size=31), st.binary(min_size=33, max_size=200),
                       huge_bytes)
bad_token = st.one_of(st.none(), st.binary(max_size=47), st.binary(min_size=49, max_size=120),
                      st.binary(min_size=48, max_size=48), huge_bytes)
null = st.none()
missing_id = st.uuids()
bad_page = st.one_of(st.none(), st.integers(-2**31, 0), st.integers(1001, 2**31 - 1))
past = st.one_of(
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(2020, 1, 1),
                 timezones=st.just(dt.UTC)),
    st.integers(0, 10**6).map(lambda s: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=s)),
)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                        st.floats(allow_nan=False, allow_infinity=False),
                        st.text(max_size=40).filter(lambda s: "\x00" not in s))
deep_array = st.integers(2, 6000).map(lambda d: RawJson("[" * d + "]" * d))
deep_object = st.integers(200, 6000).map(lambda d: RawJson('{"a":' * d + "1" + "}" * d))
bad_kdf = st.one_of(
    st.just(SQL_NULL), json_scalar, st.lists(json_scalar, max_size=4), deep_array, deep_object,
    st.integers(1025, 20_000).map(lambda n: {"pad": "x" * n}),
)
uuid_key = st.uuids().map(str)
bad_clock_value = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=10**18, max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)),
    st.text(max_size=5).filter(lambda s: "\x00" not in s), st.booleans(), st.none(),
    st.lists(st.integers(0, 3), max_size=2), st.just({"x": 1}),
)
bad_clock = st.one_of(
    st.just(SQL_NULL), json_scalar, st.lists(st.integers(0, 5), max_size=4), deep_array,
    st.dictionaries(st.text(max_size=40).filter(lambda s: "\x00" not in s and not (
        len(s) == 36 and s == s.lower() and s.count("-") == 4)), st.integers(0, 5),
        min_size=1, max_size=3),
    st.builds(lambda k, v: {k: v}, uuid_key, bad_clock_value),
    uuid_key.filter(lambda k: k != k.upper()).map(lambda k: {k.upper(): 1}),
    st.integers(1001, 1100).map(lambda n: {str(uuid.UUID(int=i + 1)): 1 for i in range(n)}),
    st.integers(2, 3000).map(lambda d: RawJson(
        '{"00000000-0000-4000-8000-000000000001":' + "[" * d + "]" * d + "}")),
)
bad_algorithm = st.one_of(st.none(), st.sampled_from(
    ["", "ED25519", "ed25519 ", "rsa-2048", "rsa", "ecdsa", "x" * 5000]),
    st.text(max_size=30).filter(lambda s: "\x00" not in s and s not in ("ed25519", "rsa-4096")))
hash_list = st.lists(st.binary(min_size=32, max_size=32), min_size=2, max_size=4)


def array_2d(rows: list[list[bytes]]) -> str:
    """A two-dimensional bytea[] literal (psycopg adapts only one-dimensional bytes lists)."""
    return "{" + ",".join("{" + ",".join(f'"\\\\x{b.hex()}"' for b in r) + "}"
                          for r in rows) + "}"


def breakers(ctx: dict[str, Any]) -> dict[str, dict[str, st.SearchStrategy[Any]]]:
    """Per function: argument -> strategy of values that break a rule for it."""
    b: Tenant = ctx["b"]
    token = {"session_token": bad_token}
    ids = {"backup_id": st.one_of(null, missing_id, st.just(next(iter(b.backups))))}
    return {
        "prelogin": {"username_hash": bad_hash32},
        "register_user": {"username_hash": bad_hash32, "auth_salt": bad_hash32,
                          "auth_key": bad_hash32, "kdf_params": bad_kdf},
        "login": {"username_hash": bad_hash32, "auth_key": bad_hash32,
                  "ttl": st.one_of(null, st.timedeltas(max_value=dt.timedelta(seconds=59)),
                                   st.timedeltas(min_value=dt.timedelta(days=30, seconds=1),
                                                 max_value=dt.timedelta(days=10**6)))},
        "logout": token, "whoami": token, "delete_account": token, "list_devices": token,
        "storage_usage": token, "list_recovery_shares": token,
        "register_device": {**token, "device_id_hash": bad_hash32,
                            "public_key": st.one_of(null, st.binary(max_size=31),
                                                    st.binary(min_size=33, max_size=549),
                                                    st.binary(min_size=551, max_size=700),
                                                    huge_bytes),
                            "key_algorithm": bad_algorithm},
        "revoke_device": {**token, "device_id": st.one_of(null, missing_id,
                                                          st.just(b.device_id))},
        "create_backup": {**token, "backup_id": null,
                          "device_id": st.one_of(null, missing_id, st.just(b.device_id)),
                          "backup_name_hash": bad_hash32,
                          "ciphertext": st.one_of(null, st.just(b""),
                                                  st.integers(MAX_BACKUP + 1, HUGE).map(
                                                      lambda n: b"\x01" * n)),
                          "nonce": st.one_of(null, st.binary(max_size=11),
                                             st.binary(min_size=13, max_size=64)),
                          "auth_tag": st.one_of(null, st.binary(max_size=15),
                                                st.binary(min_size=17, max_size=64)),
                          "signature": st.one_of(null, st.binary(max_size=63),
                                                 st.binary(min_size=65, max_size=600)),
                          "expires_at": past},
        "list_backups": {**token, "page_size": bad_page,
                         "before_created_at": st.datetimes(timezones=st.just(dt.UTC)),
                         "only_name_hash": st.one_of(st.binary(max_size=31),
                                                     st.binary(min_size=33, max_size=100)),
                         "in_trash": null},
        "get_backup": {**token, **ids}, "delete_backup": {**token, **ids},
        "restore_backup": {**token, **ids}, "purge_backup": {**token, **ids},
        "store_recovery_shares": {
            **token,
            "threshold": st.one_of(null, st.integers(-2**31, 1), st.integers(5, 2**31 - 1)),
            "guardian_hashes": st.one_of(
                null, st.just([]), st.lists(bad_hash32, min_size=1, max_size=4),
                hash_list.map(lambda xs: array_2d([xs, xs]))),
            "share_indexes": st.one_of(
                null, st.just([]),
                st.lists(st.integers(-2**31, 2**31 - 1), min_size=1, max_size=6).filter(
                    lambda xs: sorted(xs) != [1, 2]),
                st.just([1, 1, 2]), st.just([0, 1, 2]), st.just([1, None, 2]),
                st.just([[1, 2], [3, 4]])),
            "encrypted_shares": st.one_of(
                null, st.just([]), st.just([b"", b"s", b"s"]), st.just([b"s", None, b"s"]),
                st.just([b"s" * 4097, b"s", b"s"]), st.just([b"s"] * 7),
                st.just(array_2d([[b"s", b"s"], [b"s", b"s"]]))),
        },
        "sync_push": {**token, "entity_hash": bad_hash32,
                      "device_id": st.one_of(null, missing_id, st.just(b.device_id)),
                      "vector_clock": bad_clock,
                      "lamport": st.one_of(null, st.integers(-2**63, -1)),
                      "payload": st.integers(MAX_PAYLOAD + 1, HUGE).map(lambda n: b"\x02" * n)},
        "sync_pull": {**token, "after_seq": st.one_of(null, st.integers(-2**63, -1)),
                      "page_size": bad_page},
        "list_audit_events": {**token, "page_size": bad_page,
                              "before_id": st.integers(-2**63, 0)},
    }


def valid(ctx: dict[str, Any], function: str) -> dict[str, Any]:
    """A call that would be accepted: the breakers replace some of its arguments."""
    a: Tenant = ctx["a"]
    assert a.device_id is not None
    dev, bid = a.device_id, next(iter(a.backups))
    token = {"session_token": a.token}
    calls: dict[str, dict[str, Any]] = {
        "prelogin": {"username_hash": a.username_hash},
        "register_user": {"username_hash": h(f"new-{uuid.uuid4()}"), "auth_salt": h("s"),
                          "auth_key": h("k"), "kdf_params": KDF},
        "login": {"username_hash": a.username_hash, "auth_key": a.auth_key, "device_id": None,
                  "ttl": dt.timedelta(hours=1)},
        "logout": token, "whoami": token, "delete_account": token, "list_devices": token,
        "storage_usage": token, "list_recovery_shares": token,
        "register_device": {**token, "device_id_hash": h(f"d-{uuid.uuid4()}"),
                            "public_key": bytes(32), "key_algorithm": "ed25519"},
        "revoke_device": {**token, "device_id": dev},
        "create_backup": {**token, **a.backup_args(size=10), "expires_at": None},
        "list_backups": {**token, "page_size": 10, "before_created_at": None,
                         "before_id": None, "only_name_hash": None, "in_trash": False},
        "get_backup": {**token, "backup_id": bid}, "delete_backup": {**token, "backup_id": bid},
        "restore_backup": {**token, "backup_id": bid},
        "purge_backup": {**token, "backup_id": bid},
        "store_recovery_shares": {**token, "threshold": 2, "guardian_hashes": [h("1"), h("2")],
                                  "share_indexes": [1, 2], "encrypted_shares": [b"1", b"2"]},
        "sync_push": {**token, "entity_hash": h("e"), "device_id": dev,
                      "vector_clock": {str(dev): 10**6}, "lamport": 10**6, "payload": None},
        "sync_pull": {**token, "after_seq": 0, "page_size": 10},
        "list_audit_events": {**token, "page_size": 10, "before_id": None},
    }
    return calls[function]


def test_breakers_cover_every_api_function(bad_db: dict[str, Any]) -> None:
    assert sorted(breakers(bad_db)) == sorted(API_FUNCTIONS)
    for function in API_FUNCTIONS:
        # Every breakable argument is an argument of the client's statement.
        text = statement(function)
        assert all(f"%({arg})s" in text for arg in breakers(bad_db)[function]), function
        assert all(f"%({arg})s" in text for arg in valid(bad_db, function)), function


@pytest.mark.parametrize("function", API_FUNCTIONS)
def test_bad_input_is_a_zk_error_and_writes_nothing(bad_db: dict[str, Any],
                                                    function: str) -> None:
    su, app = bad_db["su"], bad_db["app"]
    table = breakers(bad_db)[function]
    names = sorted(table)

    @settings(database=None)
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        # A bad token hides every other rule (ZK401 comes first): break it in one call of
        # five, or always when it is the only argument.
        others = [n for n in names if n != "session_token"]
        with_token = "session_token" in names and (
            not others or data.draw(st.integers(0, 4), label="token roll") == 0)
        broken = data.draw(st.lists(st.sampled_from(others), min_size=0 if with_token else 1,
                                    max_size=len(others), unique=True) if others
                           else st.just([]), label="broken arguments")
        if with_token:
            broken.append("session_token")
        params = valid(bad_db, function)
        for name in broken:
            params[name] = data.draw(table[name], label=name)
        if function == "list_backups" and "before_created_at" in broken:
            params["before_id"] = None      # a cursor half: the rule it breaks
        before = db_digest(su)
        got = call(app, function, params)
        after = db_digest(su)
        FIGURES.add("bad_input", "calls")
        FIGURES.add("bad_input_per_function", function)
        FIGURES.add("bad_input_codes", str(got.sqlstate) if not got.ok else "accepted")
        assert not got.ok, f"{function} accepted {broken}: {got}"
        assert got.sqlstate is not None and got.sqlstate.startswith("ZK"), (
            f"{function} with {broken} raised {got.sqlstate} {got.message}, not a ZK code")
        assert after == before, f"{function} with bad {broken} wrote: " + ", ".join(
            t for t in before if before[t] != after[t])
        assert app.execute("SELECT 1").fetchone() == (1,), "the connection did not survive"

    run()


# --------------------------------------------------------------------------
# Input that fails the cast before the function runs
# --------------------------------------------------------------------------

BAD_UUID_TEXT = ["not-a-uuid", "", "1234", "00000000-0000-4000-8000-00000000000g",
                 "00000000-0000-4000-8000-0000000000001", "' OR 1=1 --"]


def cast_failures(ctx: dict[str, Any]) -> list[tuple[str, Any]]:
    """(what, call) pairs whose input cannot be cast to the argument's type."""
    client: Client = ctx["client"]
    a: Tenant = ctx["a"]
    s: Session = a.session
    assert a.device_id is not None
    dev = a.device_id
    out: list[tuple[str, Any]] = []
    for text in BAD_UUID_TEXT:
        out += [
            (f"get_backup({text!r})", lambda t=text: s.get_backup(t)),
            (f"delete_backup({text!r})", lambda t=text: s.delete_backup(t)),
            (f"restore_backup({text!r})", lambda t=text: s.restore_backup(t)),
            (f"purge_backup({text!r})", lambda t=text: s.purge_backup(t)),
            (f"revoke_device({text!r})", lambda t=text: s.revoke_device(t)),
            (f"create_backup(backup_id={text!r})",
             lambda t=text: s.create_backup(**a.backup_args(backup_id=t))),
            (f"create_backup(device_id={text!r})",
             lambda t=text: s.create_backup(**a.backup_args(device_id=t))),
            (f"list_backups(before_id={text!r})", lambda t=text: s.list_backups(
                before_created_at=dt.datetime.now(dt.UTC), before_id=t)),
            (f"sync_push(device_id={text!r})",
             lambda t=text: s.sync_push(h("e"), t, {str(dev): 5}, 5)),
            (f"login(device_id={text!r})",
             lambda t=text: client.login_status(a.username_hash, a.auth_key, device_id=t)),
        ]
    for bad in (float("nan"), float("inf"), {"x": float("nan")}, [float("-inf")]):
        out.append((f"register_user(kdf_params={bad!r})", lambda v=bad: client.register_user(
            h(f"u-{uuid.uuid4()}"), h("s"), h("k"), v)))
    for bad in ({str(dev): float("nan")}, {str(dev): float("inf")}):
        out.append((f"sync_push(vector_clock={bad!r})",
                    lambda v=bad: s.sync_push(h("e"), dev, v, 7)))
    out += [
        ("list_backups(page_size=2**31)", lambda: s.list_backups(page_size=2**31)),
        ("list_backups(page_size=-2**31-1)", lambda: s.list_backups(page_size=-2**31 - 1)),
        ("sync_pull(after_seq=2**63)", lambda: s.sync_pull(after_seq=2**63)),
        ("sync_pull(page_size=2**40)", lambda: s.sync_pull(page_size=2**40)),
        ("sync_push(lamport=2**63)", lambda: s.sync_push(h("e"), dev, {str(dev): 8}, 2**63)),
        ("list_audit_events(before_id=2**64)", lambda: s.list_audit_events(before_id=2**64)),
        ("store_recovery_shares(threshold=2**31)", lambda: s.store_recovery_shares(
            2**31, [h("1"), h("2")], [1, 2], [b"1", b"2"])),
        ("store_recovery_shares(share_indexes=[1, 2**31])", lambda: s.store_recovery_shares(
            2, [h("1"), h("2")], [1, 2**31], [b"1", b"2"])),
    ]
    return out


def test_input_that_fails_the_cast_reaches_the_client_as_invalid_input(
        bad_db: dict[str, Any]) -> None:
    su = bad_db["su"]
    problems = []
    for what, fn in cast_failures(bad_db):
        before = db_digest(su)
        try:
            fn()
            problems.append(f"{what} was accepted")
        except InvalidInput as exc:
            if not (exc.sqlstate or "").startswith("22"):
                problems.append(f"{what}: InvalidInput with {exc.sqlstate}, expected a 22xxx")
        except Exception as exc:
            problems.append(f"{what}: {type(exc).__name__} {sqlstate_of(exc)}")
        if db_digest(su) != before:
            problems.append(f"{what} wrote")
        FIGURES.add("bad_input", "cast_failures")
    assert problems == []


@pytest.mark.parametrize("function", ["register_user", "sync_push"])
def test_too_deeply_nested_json_reaches_the_client_as_invalid_input(
        bad_db: dict[str, Any], function: str) -> None:
    key = "kdf_params" if function == "register_user" else "vector_clock"
    params = {**valid(bad_db, function), key: RawJson("[" * 200_000 + "]" * 200_000)}
    before = db_digest(bad_db["su"])
    with pytest.raises(InvalidInput), wrap_errors():
        bad_db["app"].execute(statement(function), adapt(function, params))
    assert db_digest(bad_db["su"]) == before
