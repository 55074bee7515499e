"""Group 4: the API behind a real PgBouncer in transaction pooling mode.

The test starts ``pgbouncer`` (transaction mode, ``default_pool_size = 1``, a
free loopback port; as root it runs with ``-u postgres``, the way Debian's
1.18 must) in front of the test database, then runs at least 10,000
interleaved transactions of three tenants through it with the project's
Python client (``prepare_threshold=None``: PgBouncer 1.18 has no prepared
statements in transaction mode). Every transaction records
``pg_backend_pid()`` in the same transaction, which shows the one backend
serving every tenant in turn. A checker reads every answer and flags any value
that belongs to another tenant; calls with a NULL, empty or forged token,
interleaved with the others, must fail closed (ZK401) although the backend
just served another tenant.

Negative control: a session-level ``set_config('zkeb.session_token', <A's
token>, false)`` is left on the pooled backend, then tenant B calls a
deliberately broken function that trusts a context it finds; the same checker
must flag the leak (and the real API must still refuse B's NULL token).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from relkit import FIGURES, Tenant, h, new_tenant

from zkeb_db.client import Client, Session
from zkeb_db.errors import Unauthenticated, ZkebError

pytestmark = pytest.mark.pgbouncer

TRANSACTIONS = 10_000
THREADS_PER_TENANT = 2
TENANTS = 3


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer"
                                          if Path("/usr/sbin/pgbouncer").exists() else None)
    if found is None:
        pytest.skip("pgbouncer is not installed (Debian package pgbouncer)")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Bouncer:
    port: int
    dbname: str
    proc: subprocess.Popen[bytes]
    log: Path

    def dsn(self, user: str = "zkeb_test_app") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{self.dbname}"

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] = psycopg.connect(self.dsn(), prepare_threshold=None,
                                                        **kwargs)
        return conn


@contextlib.contextmanager
def run_pgbouncer(db: Any) -> Iterator[Bouncer]:
    binary = pgbouncer_binary()
    target = conninfo_to_dict(db.dsn)
    host, port = target.get("host") or "127.0.0.1", target.get("port") or "5432"
    workdir = Path(tempfile.mkdtemp(prefix="zkeb-rel-pgbouncer-"))
    as_root = os.geteuid() == 0
    listen = free_port()
    (workdir / "userlist.txt").write_text('"zkeb_test_app" ""\n')
    (workdir / "pgbouncer.ini").write_text(f"""\
[databases]
{db.name} = host={host} port={port} dbname={db.name}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/userlist.txt
pool_mode = transaction
default_pool_size = 1
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 100
max_db_connections = 1
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
""")
    cmd = [binary, str(workdir / "pgbouncer.ini")]
    if as_root:
        # Debian's 1.18 refuses to run as root: switch to the postgres user.
        user = pwd.getpwnam("postgres")
        for p in (workdir, *workdir.iterdir()):
            os.chown(p, user.pw_uid, user.pw_gid)
        cmd[1:1] = ["-u", "postgres"]
    out = open(workdir / "stdout.log", "wb")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    bouncer = Bouncer(listen, db.name, proc, workdir / "pgbouncer.log")
    try:
        deadline = time.monotonic() + 30
        while True:   # readiness poll, not an assertion on time
            if proc.poll() is not None:
                text = (workdir / "stdout.log").read_text(errors="replace")
                log = bouncer.log.read_text(errors="replace") if bouncer.log.exists() else ""
                raise RuntimeError(f"pgbouncer exited {proc.returncode}: {text}\n{log}")
            try:
                with psycopg.connect(bouncer.dsn(), connect_timeout=2) as probe:
                    probe.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield bouncer
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        out.close()
        shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------
# Tenants, owner maps and the leak checker
# --------------------------------------------------------------------------


@dataclass
class Owners:
    """Who owns each id, hash and payload, so any answer can be attributed."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    backups: dict[uuid.UUID, str] = field(default_factory=dict)
    devices: dict[uuid.UUID, str] = field(default_factory=dict)
    users: dict[uuid.UUID, str] = field(default_factory=dict)

    def leaks(self, who: Tenant, op: str, value: Any) -> list[str]:
        """Values in one answer to ``who`` that belong to someone else."""
        me = who.label
        found = []

        def check(kind: str, owner: str | None, shown: Any) -> None:
            if owner != me:
                found.append(f"{op} answered {who.label} with {kind} {shown} of {owner}")

        rows = value if isinstance(value, list) else [value]
        for r in rows:
            if hasattr(r, "user_id") and r.user_id is not None:
                check("user", self.users.get(r.user_id), r.user_id)
            if hasattr(r, "backup_id"):
                check("backup", self.backups.get(r.backup_id), r.backup_id)
            if hasattr(r, "device_id") and r.device_id is not None:
                check("device", self.devices.get(r.device_id), r.device_id)
            if hasattr(r, "ciphertext") and not r.ciphertext.startswith(f"[{me}]".encode()):
                check("ciphertext", "someone else", r.ciphertext[:12])
            if hasattr(r, "payload") and r.payload is not None and \
                    not r.payload.startswith(me.encode()):
                check("sync payload", "someone else", r.payload)
            if hasattr(r, "encrypted_share") and not r.encrypted_share.startswith(me.encode()):
                check("recovery share", "someone else", r.encrypted_share)
        return found


def make_tenants(client: Client, owners: Owners) -> list[Tenant]:
    tenants = []
    for n in range(TENANTS):
        t = new_tenant(client, f"t{n}")
        assert t.device_id is not None
        owners.users[t.user_id] = t.label
        owners.devices[t.device_id] = t.label
        for _ in range(5):
            args = t.create(size=48)
            owners.backups[args["backup_id"]] = t.label
        t.session.sync_push(h("entity"), t.device_id, {str(t.device_id): 1}, 1,
                            f"{t.label}:payload".encode())
        t.session.store_recovery_shares(2, [h("g1"), h("g2")], [1, 2],
                                        [f"{t.label}:s1".encode(), f"{t.label}:s2".encode()])
        tenants.append(t)
    return tenants


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    transactions: int = 0
    pids: set[int] = field(default_factory=set)
    fail_closed: int = 0
    fail_closed_after_other_tenant: int = 0
    leaks: list[str] = field(default_factory=list)
    last: tuple[int, str] | None = None   # (backend pid, tenant) of the last transaction


def in_transaction(conn: psycopg.Connection[Any], fn: Any) -> tuple[int, Any]:
    """Run ``fn`` (one client call) in a caller's transaction that also reads
    pg_backend_pid(); BEGIN and the pid travel in one round trip."""
    cur = conn.execute("BEGIN; SELECT pg_catalog.pg_backend_pid()")
    cur.nextset()
    row = cur.fetchone()
    assert row is not None
    try:
        value = fn()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return int(row[0]), value


def good_call(mine: Session, op: str, arg: Any) -> Any:
    if op == "whoami":
        return mine.whoami()
    if op == "list_backups":
        return mine.list_backups(page_size=20)
    if op == "get_backup":
        return mine.get_backup(arg)
    if op == "storage_usage":
        return mine.storage_usage()
    if op == "list_devices":
        return mine.list_devices()
    if op == "sync_pull":
        return mine.sync_pull()
    if op == "list_recovery_shares":
        return mine.list_recovery_shares()
    return mine.create_backup(**arg)


def worker(bouncer: Bouncer, me: Tenant, others: list[Tenant], owners: Owners, tally: Tally,
           count: int, seed: int) -> None:
    rnd = random.Random(seed)
    conn = bouncer.connect(autocommit=True)
    client = Client(conn, prepare_threshold=None)
    mine = Session(client, me.token)
    victim = others[seed % len(others)]
    forged = victim.user_id.bytes + os.urandom(32)
    try:
        for _ in range(count):
            r = rnd.random()
            if r < 0.15:
                kind = rnd.choice(["NULL", "empty", "forged"])
                token: Any = {"NULL": None, "empty": b"", "forged": forged}[kind]
                bad = Session(client, token)
                op = rnd.choice(["whoami", "list_backups", "get_backup", "sync_pull"])
                calls = {"whoami": lambda s: s.whoami(),
                         "list_backups": lambda s: s.list_backups(),
                         "get_backup": lambda s: s.get_backup(next(iter(victim.backups))),
                         "sync_pull": lambda s: s.sync_pull()}
                cur = conn.execute("BEGIN; SELECT pg_catalog.pg_backend_pid()")
                cur.nextset()
                pid = int(cur.fetchone()[0])  # type: ignore[index]
                try:
                    value = calls[op](bad)
                    problem = f"{op} with a {kind} token answered {value!r}"
                except Unauthenticated:
                    problem = None
                except ZkebError as exc:
                    problem = f"{op} with a {kind} token raised {exc.sqlstate}"
                conn.execute("ROLLBACK")
                with tally.lock:
                    tally.transactions += 1
                    tally.pids.add(pid)
                    tally.fail_closed += 1
                    if tally.last is not None and tally.last[0] == pid and \
                            tally.last[1] != me.label:
                        tally.fail_closed_after_other_tenant += 1
                    tally.last = (pid, f"{me.label}:bad")
                    if problem:
                        tally.leaks.append(problem)
                continue
            op = rnd.choice(["whoami", "list_backups", "get_backup", "storage_usage",
                             "list_devices", "sync_pull", "list_recovery_shares",
                             "create_backup"])
            arg: Any = None
            if op == "get_backup":
                with owners.lock:
                    arg = rnd.choice([b for b, o in owners.backups.items() if o == me.label])
            elif op == "create_backup":
                arg = me.backup_args(size=48)
                with owners.lock:
                    owners.backups[arg["backup_id"]] = me.label
            pid, value = in_transaction(conn, lambda op=op, arg=arg: good_call(mine, op, arg))
            found = owners.leaks(me, op, value)
            with tally.lock:
                tally.transactions += 1
                tally.pids.add(pid)
                tally.last = (pid, me.label)
                tally.leaks.extend(found)
    finally:
        conn.close()


def test_ten_thousand_interleaved_transactions_through_pgbouncer(
        db: Any, request: pytest.FixtureRequest) -> None:
    total = 5 * TRANSACTIONS if request.config.getoption("--slow") else TRANSACTIONS
    app = db.connect("app")
    owners = Owners()
    tenants = make_tenants(Client(app), owners)
    tally = Tally()
    with run_pgbouncer(db) as bouncer:
        nthreads = TENANTS * THREADS_PER_TENANT
        per_thread = -(-total // nthreads)
        errors: list[BaseException] = []

        def run(k: int) -> None:
            me = tenants[k % TENANTS]
            try:
                worker(bouncer, me, [t for t in tenants if t is not me], owners, tally,
                       per_thread, seed=k)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(nthreads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert not errors, errors[0]
    FIGURES.add("pgbouncer", "transactions", tally.transactions)
    FIGURES.add("pgbouncer", "tenants", TENANTS)
    FIGURES.add("pgbouncer", "client_connections", TENANTS * THREADS_PER_TENANT)
    FIGURES.put("pgbouncer", "distinct_backend_pids", len(tally.pids))
    FIGURES.add("pgbouncer", "fail_closed_calls", tally.fail_closed)
    FIGURES.add("pgbouncer", "fail_closed_right_after_another_tenant_on_that_backend",
                tally.fail_closed_after_other_tenant)
    FIGURES.add("pgbouncer", "leaks", len(tally.leaks))
    assert tally.transactions >= total
    assert tally.leaks == [], tally.leaks[:5]
    # Pool size 1: every transaction of every tenant ran on the same backend.
    assert len(tally.pids) == 1, tally.pids
    assert tally.fail_closed_after_other_tenant > 0


BROKEN = """
CREATE FUNCTION zkeb_api.zkeb_rel_broken_whoami(session_token bytea)
RETURNS TABLE (user_id uuid, storage_quota_bytes bigint, storage_used_bytes bigint,
               account_status text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- BUG (planted): without a token, trust whatever context the backend holds.
    IF zkeb_rel_broken_whoami.session_token IS NOT NULL THEN
        PERFORM zkeb_private.begin_session(zkeb_rel_broken_whoami.session_token);
    END IF;
    RETURN QUERY SELECT u.user_id, u.storage_quota_bytes, u.storage_used_bytes, u.account_status
      FROM zkeb.users AS u WHERE u.user_id = zkeb_private.current_user_id();
END
$$;
ALTER FUNCTION zkeb_api.zkeb_rel_broken_whoami(bytea) OWNER TO zkeb_owner;
REVOKE ALL ON FUNCTION zkeb_api.zkeb_rel_broken_whoami(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zkeb_api.zkeb_rel_broken_whoami(bytea) TO zkeb_app;
"""


@dataclass(frozen=True)
class WhoRow:
    user_id: uuid.UUID
    storage_quota_bytes: int
    storage_used_bytes: int
    account_status: str


def test_negative_control_a_session_level_context_leak_is_detected(db: Any) -> None:
    app = db.connect("app")
    owners = Owners()
    tenants = make_tenants(Client(app), owners)
    a, b = tenants[0], tenants[1]
    db.connect("super").execute(BROKEN.encode())
    with run_pgbouncer(db) as bouncer, FIGURES.negative_control():
        conn_a = bouncer.connect(autocommit=True)
        conn_b = bouncer.connect()
        # A leaves its token in a session-level setting on the pooled backend.
        pid_a = conn_a.execute(
            "SELECT pg_catalog.pg_backend_pid(), "
            "pg_catalog.set_config('zkeb.session_token', %s, false)", [a.token.hex()]
        ).fetchone()
        assert pid_a is not None
        # B, next on the same backend, calls a function that would trust it.
        with conn_b.transaction():
            pid_b = conn_b.execute("SELECT pg_catalog.pg_backend_pid()").fetchone()
            rows = conn_b.execute(
                "SELECT * FROM zkeb_api.zkeb_rel_broken_whoami(NULL)").fetchall()
        leaks = owners.leaks(b, "zkeb_rel_broken_whoami", [WhoRow(*r) for r in rows])
        # The real API refuses B's NULL token even with A's context on the backend.
        with conn_b.transaction():
            pid_c = conn_b.execute("SELECT pg_catalog.pg_backend_pid()").fetchone()
            nobody = Session(Client(conn_b, prepare_threshold=None), None)
            try:
                nobody.whoami()
                real_api_refused = False
            except Unauthenticated:
                real_api_refused = True
        conn_a.execute("SELECT pg_catalog.set_config('zkeb.session_token', '', false)")
        conn_a.close()
        conn_b.close()
    assert pid_b is not None and pid_c is not None
    same_backend = pid_a[0] == pid_b[0] == pid_c[0]
    FIGURES.control("pgbouncer: session-level set_config of A's token, then a function that "
                    "trusts the backend's context", bool(leaks) and same_backend,
                    f"backend {pid_a[0]}: {leaks[:1]}; the real API refused B's NULL token: "
                    f"{real_api_refused}")
    assert same_backend
    assert leaks, "the checker did not see A's account in B's answer"
    assert real_api_refused
