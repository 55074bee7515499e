"""``zkeb-db bench``: every hot path of the API against its raw-SQL twin, with pgbench.

What one run does (docs/benchmarks.md explains the figures):

1. Find a server: ``--db`` / ``$ZKEB_DB_URI`` / ``PG*`` (a superuser is needed),
   else a private cluster of our own (:class:`zkeb_db.embedded.EmbeddedPostgres`)
   started with durable settings (fsync, full_page_writes and synchronous_commit
   on, as in production) and enough ``max_connections`` for the clients.
2. Create a scratch database and two login roles (one in ``zkeb_app``, one in
   ``zkeb_maintainer``), deploy the plan with ``zkeb_db.sqitch.deploy_project``.
3. Load (``sql/bench/loader.sql``): accounts, sessions and devices through the
   API; the heavy user's ``--backups`` and every other account's ``--per-user``
   backups set-based as the superuser; ``storage_used_bytes`` set to the exact
   sums; then ``check_invariants()`` and ``verify_audit_chain()`` must be clean.
4. For each workload and client count: rounds of API then raw twin (A B A B),
   pgbench ``-M prepared`` with per-transaction logs; medians over the rounds.
   Then the cleanup batch under load, and the mixed workload.
5. Print one table, write JSON and Markdown to ``--out``, drop what it made.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import queue
import secrets
import shlex
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

import zkeb_db
from zkeb_db.bench_pgbench import PgbenchError, PgbenchRun, Script, find_pgbench, run_pgbench

__all__ = [
    "CLEANUP_CLIENTS",
    "CLEANUP_ROWS",
    "BenchConfig",
    "BenchError",
    "config_from_args",
    "parse_clients",
    "run_bench",
]

CLEANUP_ROWS = 10_000
"""Expired backups planted for each cleanup round (one batch of the default size)."""

CLEANUP_CLIENTS = 16
"""pgbench clients running list/create while the cleanup batch runs."""

MIXED_WEIGHTS = (
    ("list_heavy", 15), ("list_small", 20), ("get", 35), ("create", 20), ("sync", 5), ("trash", 5),
)
"""The mixed workload: 70% list/get, 20% create, 5% sync, 5% trash+restore."""

SYNC_ENTITIES = 50
"""Entities per sync slot (pgbench client)."""

FULL_DEFAULTS: dict[str, Any] = {
    "backups": 1_000_000, "users": 1000, "per_user": 1000,
    "clients": (1, 16, 100), "rounds": 3, "duration": 5, "warmup": 2,
}
QUICK_DEFAULTS: dict[str, Any] = {
    "backups": 20_000, "users": 20, "per_user": 200,
    "clients": (1, 16), "rounds": 1, "duration": 1, "warmup": 0,
}

SERVER_SETTINGS = (
    "server_version", "max_connections", "shared_buffers", "work_mem", "effective_cache_size",
    "fsync", "synchronous_commit", "full_page_writes", "wal_level", "max_wal_size",
    "checkpoint_timeout", "jit", "random_page_cost", "autovacuum",
)


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message is one line for the user."""


@dataclass(frozen=True)
class BenchConfig:
    """Everything a run needs to know (from the command line)."""

    backups: int
    users: int
    per_user: int
    clients: tuple[int, ...]
    rounds: int
    duration: int
    warmup: int
    out: Path
    quick: bool = False
    keep: bool = False
    profile: bool = False
    cleanup_rows: int = CLEANUP_ROWS
    db_given: bool = False

    @property
    def total_rows(self) -> int:
        return self.backups + self.users * self.per_user

    @property
    def max_clients(self) -> int:
        return max(*self.clients, CLEANUP_CLIENTS)

    def command(self) -> str:
        """The command line that repeats this run, every size spelled out."""
        parts = ["zkeb-db", "bench"]
        if self.db_given:
            parts += ["--db", "URI"]
        if self.quick:
            parts.append("--quick")
        parts += ["--backups", str(self.backups), "--users", str(self.users),
                  "--per-user", str(self.per_user),
                  "--clients", ",".join(map(str, self.clients)),
                  "--rounds", str(self.rounds), "--duration", str(self.duration),
                  "--warmup", str(self.warmup), "--out", shlex.quote(str(self.out))]
        if self.keep:
            parts.append("--keep")
        if self.profile:
            parts.append("--profile")
        return " ".join(parts)


def parse_clients(text: str) -> tuple[int, ...]:
    """``"1,16,100"`` -> ``(1, 16, 100)``; positive, distinct, ascending."""
    try:
        values = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--clients wants a comma-separated list of numbers, not {text!r}") from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("--clients wants positive numbers, e.g. 1,16,100")
    return tuple(values)


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    """Fill the options the user left out from the full or the ``--quick`` defaults."""
    base = QUICK_DEFAULTS if args.quick else FULL_DEFAULTS

    def pick(name: str) -> Any:
        value = getattr(args, name, None)
        return base[name] if value is None else value

    config = BenchConfig(
        backups=int(pick("backups")),
        users=int(pick("users")),
        per_user=int(pick("per_user")),
        clients=tuple(pick("clients")),
        rounds=int(pick("rounds")),
        duration=int(pick("duration")),
        warmup=int(pick("warmup")),
        out=Path(args.out),
        quick=bool(args.quick),
        keep=bool(getattr(args, "keep", False)),
        profile=bool(getattr(args, "profile", False)),
        db_given=bool(getattr(args, "db", None)),
    )
    if config.backups < 100:
        raise BenchError("--backups must be at least 100")
    if config.users < 2:
        raise BenchError("--users must be at least 2 (odd accounts take the API's writes, "
                         "even ones the raw twins')")
    if config.per_user < 10:
        raise BenchError("--per-user must be at least 10")
    if config.rounds < 1 or config.duration < 1 or config.warmup < 0:
        raise BenchError("--rounds and --duration must be at least 1, --warmup at least 0")
    return config


# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """An API path and its raw-SQL twin, as pgbench scripts."""

    key: str
    label: str
    api: tuple[Script, ...]
    raw: tuple[Script, ...]
    twin: str


def _workloads(sql_dir: Path, config: BenchConfig) -> list[Workload]:
    def s(name: str) -> tuple[Script, ...]:
        return (Script(sql_dir / f"{name}.sql"),)

    heavy = f"{config.backups:,}"
    small = f"{config.per_user:,}"
    return [
        Workload("create_backup", "create_backup", s("api_create"), s("raw_create"),
                 "single-row INSERT"),
        Workload("list_backups_heavy", f"list_backups ({heavy})", s("api_list_heavy"),
                 s("raw_list_heavy"), f"keyset SELECT, page of 50, random depth in {heavy}"),
        Workload("list_backups_small", f"list_backups ({small})", s("api_list_small"),
                 s("raw_list_small"), f"keyset SELECT, page of 50, random depth in {small}"),
        Workload("get_backup", "get_backup", s("api_get"), s("raw_get"),
                 "primary-key SELECT (+ device key)"),
        Workload("sync_push", "sync_push", s("api_sync"), s("raw_sync"),
                 "seq under the user row lock + UPSERT"),
        Workload("login", "login", s("api_login"), s("raw_login"),
                 "SELECT by username hash + verifier"),
    ]


def _mixed(sql_dir: Path, side: str) -> tuple[Script, ...]:
    files = {
        "list_heavy": "list_heavy", "list_small": "list_small", "get": "get",
        "create": "create", "sync": "sync", "trash": "trash",
    }
    return tuple(Script(sql_dir / f"{side}_{files[name]}.sql", weight)
                 for name, weight in MIXED_WEIGHTS)


# --------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------


class Ui:
    """Progress bars (with ETA) and one log line per finished step."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )

    def __enter__(self) -> Ui:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def log(self, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self.progress.console.print(f"[dim]{stamp}[/dim] {text}", highlight=False)


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 3) if present else None


def _round_entry(run: PgbenchRun) -> dict[str, Any]:
    entry: dict[str, Any] = {"tps": round(run.tps, 1), "transactions": run.transactions}
    entry.update(run.percentiles_ms())
    return entry


def _summary(runs: Sequence[PgbenchRun]) -> dict[str, Any]:
    rounds = [_round_entry(r) for r in runs]
    return {
        "tps": _median([r["tps"] for r in rounds]),
        "p50_ms": _median([r["p50_ms"] for r in rounds]),
        "p95_ms": _median([r["p95_ms"] for r in rounds]),
        "p99_ms": _median([r["p99_ms"] for r in rounds]),
        "transactions": sum(r["transactions"] for r in rounds),
        "rounds": rounds,
    }


def _ratio(
    api: Sequence[PgbenchRun], raw: Sequence[PgbenchRun],
) -> tuple[float | None, list[float]]:
    pairs = [a.tps / r.tps for a, r in zip(api, raw, strict=True) if r.tps > 0]
    return _median(pairs), [round(p, 3) for p in pairs]


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _split_password(conninfo: str) -> tuple[str, str | None]:
    """The conninfo without its password (kept out of pgbench's command line) and the password."""
    params = conninfo_to_dict(conninfo)
    password = params.pop("password", None)
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None}), (
        None if password is None else str(password))


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


@dataclass
class Server:
    """The server the bench runs on, and what it allows."""

    admin_dsn: str
    embedded: bool
    bindir: Path | None
    client_limit: int
    notes: list[str] = field(default_factory=list)


def _mem_total_bytes() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _embedded_settings(config: BenchConfig, bindir: Path | None, major: int) -> dict[str, str]:
    mem = _mem_total_bytes() or 0
    settings = {
        # Production durability: the figures include the commit's WAL flush.
        "fsync": "on",
        "full_page_writes": "on",
        "synchronous_commit": "on",
        "shared_buffers": "1GB" if mem >= 8 << 30 else "256MB",
        "effective_cache_size": f"{max(1, mem * 3 // 4 >> 30)}GB" if mem >= 2 << 30 else "1GB",
        "max_wal_size": "8GB",
        "checkpoint_timeout": "15min",
    }
    if config.profile:
        if not _has_pg_stat_statements(bindir, major):
            raise BenchError("--profile needs the pg_stat_statements extension, "
                             "which this PostgreSQL does not ship")
        settings.update({
            "shared_preload_libraries": "pg_stat_statements",
            "pg_stat_statements.track": "all",
            "pg_stat_statements.max": "10000",
        })
    return settings


def _has_pg_stat_statements(bindir: Path | None, major: int) -> bool:
    candidates = [Path(f"/usr/share/postgresql/{major}/extension")]
    if bindir is not None:
        candidates += [bindir.parent / "share" / "extension",
                       bindir.parent / "share" / "postgresql" / "extension"]
    return any((c / "pg_stat_statements.control").is_file() for c in candidates)


@contextlib.contextmanager
def _open_server(args: argparse.Namespace, config: BenchConfig, ui: Ui) -> Iterator[Server]:
    from zkeb_db.dbopts import resolve_dsn

    resolved = resolve_dsn(args)
    if resolved is not None:
        dsn, source = resolved
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT r.rolsuper, current_setting('max_connections')::int,"
                    " current_setting('superuser_reserved_connections')::int,"
                    " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')"
                    " FROM pg_roles AS r WHERE r.rolname = current_user").fetchone()
        except psycopg.OperationalError as exc:
            raise BenchError(f"cannot connect to the server from {source}: "
                             f"{str(exc).strip()}") from None
        assert row is not None
        superuser, max_conn, reserved, active = bool(row[0]), int(row[1]), int(row[2]), int(row[3])
        if not superuser:
            raise BenchError("the benchmark needs a superuser connection (it creates a scratch "
                             "database and roles, and its raw-SQL twins bypass row level "
                             "security); or leave out --db to use a private server")
        # Our own connections: the admin one, the maintenance one, one spare.
        limit = max(1, max_conn - reserved - active - 3)
        server = Server(dsn, embedded=False, bindir=None, client_limit=limit)
        server.notes.append(f"server from {source}: max_connections={max_conn}, "
                            f"{reserved} reserved, {active} in use, so at most {limit} clients")
        yield server
        return

    from zkeb_db.embedded import EmbeddedError, EmbeddedPostgres, find_install

    try:
        install = find_install()
    except EmbeddedError as exc:
        raise BenchError(str(exc)) from None
    max_connections = max(120, 2 * config.max_clients + 20)
    settings = _embedded_settings(config, install.bindir, install.major)
    pg = EmbeddedPostgres(keep=config.keep, max_connections=max_connections, settings=settings)
    ui.log(f"starting a private PostgreSQL {install.version} (max_connections={max_connections}, "
           f"shared_buffers={settings['shared_buffers']}, fsync on)")
    try:
        pg.start()
    except EmbeddedError as exc:
        pg.close()
        raise BenchError(f"cannot start the private PostgreSQL: {exc}") from None
    except BaseException:
        pg.close()
        raise
    try:
        server = Server(pg.uri, embedded=True, bindir=install.bindir,
                        client_limit=max_connections - 10)
        server.notes.append(f"private PostgreSQL {install.version} owned by the bench "
                            f"(max_connections={max_connections})"
                            + (f", kept in {pg.base_dir}" if config.keep else ""))
        yield server
    finally:
        try:
            pg.close()
        except EmbeddedError as exc:
            print(f"zkeb-db bench: {exc}", file=sys.stderr)


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------


class Bench:
    """One benchmark run against a server (see the module docstring)."""

    def __init__(self, config: BenchConfig, server: Server, ui: Ui, project: Path) -> None:
        self.config = config
        self.server = server
        self.ui = ui
        self.project = project
        self.sql_dir = project / "sql" / "bench"
        if not (self.sql_dir / "loader.sql").is_file():
            raise BenchError(f"no benchmark scripts in {self.sql_dir} (sql/bench of the project)")
        suffix = secrets.token_hex(4)
        self.dbname = f"zkeb_bench_{suffix}"
        self.app_role = f"zkeb_bench_app_{suffix}"
        self.maint_role = f"zkeb_bench_maint_{suffix}"
        self.role_password = secrets.token_urlsafe(18)
        self.db_dsn = make_conninfo(server.admin_dsn, dbname=self.dbname)
        self.app_dsn = make_conninfo(self.db_dsn, user=self.app_role, password=self.role_password)
        self.maint_dsn = make_conninfo(self.db_dsn, user=self.maint_role,
                                       password=self.role_password)
        extra = [server.bindir] if server.bindir is not None else []
        self.pgbench = find_pgbench(extra)
        self.clients = self._capped_clients()
        self.mixed_clients = max(self.clients)
        self.cleanup_clients = min(CLEANUP_CLIENTS, server.client_limit)
        self.variables: dict[str, int] = {}
        self.result: dict[str, Any] = {}
        self.created_db = False
        self.created_roles = False

    # -- setup ------------------------------------------------------------

    def _capped_clients(self) -> tuple[int, ...]:
        limit = self.server.client_limit
        capped = tuple(sorted({min(c, limit) for c in self.config.clients}))
        if capped != self.config.clients:
            self.server.notes.append(
                f"clients capped from {','.join(map(str, self.config.clients))} to "
                f"{','.join(map(str, capped))}: the server allows at most {limit} more connections")
        return capped

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.server.admin_dsn, autocommit=True)

    def _super(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.db_dsn, autocommit=True)

    def _connect(self, dsn: str) -> psycopg.Connection[Any]:
        return psycopg.connect(dsn, autocommit=True)

    def create_database(self) -> None:
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.dbname)))
        self.created_db = True
        from zkeb_db.sqitch import SqitchError, deploy_project

        started = time.monotonic()
        try:
            deploy_project(self.project, self.db_dsn)
        except SqitchError as exc:
            raise BenchError(f"deploy failed: {exc}") from None
        self.ui.log(f"deployed the plan into {self.dbname} in {time.monotonic() - started:.1f} s")
        with self._super() as conn:
            for role, group in ((self.app_role, "zkeb_app"), (self.maint_role, "zkeb_maintainer")):
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(role), sql.Literal(self.role_password), sql.Identifier(group)))
            self.created_roles = True
            conn.execute((self.sql_dir / "loader.sql").read_text())
            conn.execute(sql.SQL(
                "GRANT USAGE ON SCHEMA bench TO {app}, {maint};"
                " GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA bench TO {app};"
                " GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA bench TO {app}, {maint}").format(
                    app=sql.Identifier(self.app_role), maint=sql.Identifier(self.maint_role)))
            if self.config.profile:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA bench")

    def drop(self) -> None:
        if self.config.keep:
            self.ui.log(f"kept the database {self.dbname} (roles {self.app_role}, "
                        f"{self.maint_role}) as asked")
            return
        with contextlib.suppress(psycopg.Error), self._admin() as conn:
            if self.created_db:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.dbname)))
            if self.created_roles:
                for role in (self.app_role, self.maint_role):
                    conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

    # -- load -------------------------------------------------------------

    def load(self) -> None:
        config = self.config
        started = time.monotonic()
        t0 = datetime.now(UTC)
        with self._super() as conn:
            conn.execute("SELECT bench.make_blobs()")
            conn.execute("SELECT bench.plan_users(%s, %s, %s)",
                         (config.users, config.backups, config.per_user))
        accounts = config.users + 1
        task = self.ui.progress.add_task("accounts (API)", total=accounts)
        with self._connect(self.app_dsn) as app:
            for first in range(0, accounts, 50):
                app.execute("SELECT bench.register_users(%s, %s)", (first, first + 49))
                self.ui.progress.update(task, completed=min(accounts, first + 50))
        with self._super() as conn:
            row = conn.execute("SELECT user_id FROM bench.users WHERE n = 0").fetchone()
        assert row is not None
        heavy_quota = config.backups * 4200 + (1 << 30)
        with self._connect(self.maint_dsn) as maint:
            maint.execute("SELECT zkeb_maint.set_quota(%s, %s)", (row[0], heavy_quota))
        self.ui.log(f"{accounts:,} accounts registered, logged in and given a device "
                    "through the API")

        tasks: queue.Queue[tuple[int, int, int]] = queue.Queue()
        chunk = 25_000
        for first in range(1, config.backups + 1, chunk):
            tasks.put((0, first, min(config.backups, first + chunk - 1)))
        for n in range(1, config.users + 1):
            tasks.put((n, 1, config.per_user))
        bar = self.ui.progress.add_task("backups (bulk)", total=config.total_rows)
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                with self._super() as conn:
                    conn.execute("SET synchronous_commit = off")
                    while not errors:
                        try:
                            n, first, last = tasks.get_nowait()
                        except queue.Empty:
                            return
                        conn.execute("SELECT bench.load_backups(%s, %s, %s, %s)",
                                     (n, first, last, t0))
                        self.ui.progress.advance(bar, last - first + 1)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, daemon=True)
                   for _ in range(max(1, min(4, os.cpu_count() or 1)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise BenchError(f"loading backups failed: {errors[0]}") from errors[0]
        load_rows_s = time.monotonic() - started

        # Sync slots and trash samples serve the workloads that run at --clients
        # (the mixed one at the most); the cleanup workload uses neither.
        slots = max(self.clients)
        with self._super() as conn:
            used = conn.execute("SELECT bench.settle_usage()").fetchone()
            heavy_cursors = max(2, min(10_000, config.backups // 20))
            small_cursors = max(2, min(20, config.per_user // 10))
            conn.execute("SELECT bench.build_cursors(%s, %s)", (heavy_cursors, small_cursors))
            trash_row = conn.execute("SELECT bench.trash_capacity(%s)", (slots,)).fetchone()
            ntrash = int(trash_row[0]) if trash_row and trash_row[0] is not None else 0
            if ntrash < 1:
                raise BenchError("too few backups per account for the trash/restore workload "
                                 f"at {slots} clients: raise --per-user or --users")
            nsamples = max(100, min(100_000, config.total_rows // 10))
            conn.execute("SELECT bench.build_samples(%s, %s, %s)", (nsamples, slots, ntrash))
        with self._connect(self.app_dsn) as app:
            app.execute("SELECT bench.register_sync_slots(%s)", (slots,))
        self.ui.log("vacuum and analyze")
        with self._super() as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            conn.execute("VACUUM (ANALYZE) zkeb.users, zkeb.devices, zkeb.sessions, "
                         "zkeb.audit_logs, zkeb.sync_metadata")
            conn.execute("VACUUM (ANALYZE, PROCESS_TOAST false) zkeb.encrypted_backups")
            conn.execute("ANALYZE bench.users, bench.cursors_heavy, bench.cursors_small, "
                         "bench.samples, bench.trash_samples, bench.sync_slots, "
                         "bench.raw_sync_slots, bench.payloads")
            sizes = conn.execute(
                "SELECT pg_total_relation_size('zkeb.encrypted_backups'),"
                " pg_relation_size('zkeb.encrypted_backups'),"
                " pg_total_relation_size('zkeb.encrypted_backups')"
                " - pg_relation_size('zkeb.encrypted_backups')"
                " - pg_indexes_size('zkeb.encrypted_backups'),"
                " pg_indexes_size('zkeb.encrypted_backups'),"
                " (SELECT count(*) FROM zkeb.encrypted_backups),"
                " (SELECT avg(size_bytes)::int FROM zkeb.encrypted_backups),"
                " pg_database_size(current_database())").fetchone()
        assert sizes is not None
        napi = (config.users + 1) // 2
        self.variables = {
            "na": napi, "nr": config.users // 2, "nu": config.users,
            "ncur_heavy": heavy_cursors, "ncur_small": small_cursors,
            "nsamples": nsamples, "nent": SYNC_ENTITIES, "ntrash": ntrash,
        }
        checks = self.data_checks()
        self.result["load"] = {
            "seconds": round(time.monotonic() - started, 1),
            "bulk_seconds": round(load_rows_s, 1),
            "accounts": accounts,
            "heavy_backups": config.backups,
            "per_user_backups": config.per_user,
            "backup_rows": int(sizes[4]),
            "avg_ciphertext_bytes": int(sizes[5]),
            "storage_used_bytes_total": int(used[0]) if used else None,
            "table_bytes": {"total": int(sizes[0]), "heap": int(sizes[1]),
                            "toast": int(sizes[2]), "indexes": int(sizes[3])},
            "database_bytes": int(sizes[6]),
            "checks": checks,
        }
        if checks["invariant_violations"] or not checks["audit_chain"]["ok"]:
            raise BenchError(
                "the data is not consistent after the load: "
                f"check_invariants() gave {len(checks['invariant_violations'])} rows "
                f"({checks['invariant_violations'][:3]}), verify_audit_chain() "
                f"{checks['audit_chain']}")
        self.ui.log(
            f"loaded {int(sizes[4]):,} backups ({int(sizes[0]) / 2**30:.2f} GiB with indexes) "
            f"in {self.result['load']['seconds']:.0f} s; check_invariants(): "
            f"{len(checks['invariant_violations'])} violations; verify_audit_chain(): "
            f"ok={checks['audit_chain']['ok']}, {checks['audit_chain']['checked_count']} events")
        with self._super() as conn:
            conn.execute("CHECKPOINT")

    def data_checks(self) -> dict[str, Any]:
        with self._connect(self.maint_dsn) as maint:
            violations = maint.execute(
                "SELECT invariant, user_id::text, detail FROM zkeb_maint.check_invariants()"
            ).fetchall()
            chain = maint.execute(
                "SELECT ok, checked_count FROM zkeb_maint.verify_audit_chain()").fetchone()
        assert chain is not None
        return {
            "invariant_violations": [
                {"invariant": v[0], "user_id": v[1], "detail": v[2]} for v in violations],
            "audit_chain": {"ok": bool(chain[0]), "checked_count": int(chain[1])},
        }

    # -- measuring --------------------------------------------------------

    def _pgbench(self, label: str, side: str, scripts: Sequence[Script], clients: int,
                 duration: int, variables: dict[str, int] | None = None,
                 on_start: Callable[[], None] | None = None) -> PgbenchRun:
        dsn = self.app_dsn if side == "api" else self.db_dsn
        conninfo, password = _split_password(dsn)
        task = self.ui.progress.add_task(f"{label} {side} c={clients}", total=duration)
        overall = self.overall

        def on_progress(elapsed: float, tps: float, lat: float) -> None:
            self.ui.progress.update(
                task, completed=min(duration, elapsed),
                description=f"{label} {side} c={clients}: {tps:,.0f} tps {lat:.2f} ms")

        try:
            run = run_pgbench(
                self.pgbench, conninfo, scripts, clients=clients, duration=duration,
                variables=variables or self.variables, password=password,
                on_progress=on_progress, on_start=on_start)
        except PgbenchError as exc:
            raise BenchError(str(exc)) from None
        finally:
            self.ui.progress.remove_task(task)
        if overall is not None:
            self.ui.progress.advance(overall, duration)
        return run

    overall: TaskID | None = None

    def planned_seconds(self) -> int:
        c = self.config
        pairs = len(_workloads(self.sql_dir, c))
        per_level = 2 * c.rounds * c.duration
        total = pairs * (len(self.clients) * per_level + 2 * c.warmup)
        total += 2 * c.rounds * c.duration  # cleanup
        total += 2 * c.rounds * c.duration  # mixed
        return total

    def measure(self) -> None:
        c = self.config
        self.overall = self.ui.progress.add_task("benchmark", total=self.planned_seconds())
        results: list[dict[str, Any]] = []
        profiles: dict[str, Any] = {}
        for workload in _workloads(self.sql_dir, c):
            self._profile_reset()
            if c.warmup:
                warm = min(16, max(self.clients))
                self._pgbench(f"warm-up {workload.label}", "api", workload.api, warm, c.warmup)
                self._pgbench(f"warm-up {workload.label}", "raw", workload.raw, warm, c.warmup)
            for clients in self.clients:
                api_runs: list[PgbenchRun] = []
                raw_runs: list[PgbenchRun] = []
                for rnd in range(c.rounds):
                    for side, scripts, runs in (("api", workload.api, api_runs),
                                                ("raw", workload.raw, raw_runs)):
                        run = self._pgbench(workload.label, side, scripts, clients, c.duration)
                        runs.append(run)
                        p = run.percentiles_ms()
                        self.ui.log(
                            f"{workload.label} {side} c={clients} round {rnd + 1}/{c.rounds}: "
                            f"{run.tps:,.0f} tps, p50 {_fmt(p['p50_ms'])} p95 "
                            f"{_fmt(p['p95_ms'])} p99 {_fmt(p['p99_ms'])} ms")
                ratio, ratio_rounds = _ratio(api_runs, raw_runs)
                results.append({
                    "workload": workload.key, "label": workload.label, "twin": workload.twin,
                    "clients": clients,
                    "api": _summary(api_runs), "raw": _summary(raw_runs),
                    "ratio": ratio, "ratio_rounds": ratio_rounds,
                })
            profiles[workload.key] = self._profile_top()
        self.result["results"] = results
        self.result["cleanup"] = self.measure_cleanup()
        self.result["mixed"] = self.measure_mixed()
        if c.profile:
            self.result["profile"] = profiles

    def measure_cleanup(self) -> dict[str, Any]:
        c = self.config
        k = min(self.cleanup_clients, self.variables["na"])
        variables = dict(self.variables, na=k)
        scripts = (Script(self.sql_dir / "api_list_small.sql", 50),
                   Script(self.sql_dir / "api_create.sql", 50))
        clients = self.cleanup_clients
        rounds: list[dict[str, Any]] = []
        without_runs: list[PgbenchRun] = []
        with_runs: list[PgbenchRun] = []
        delay = max(0.3, min(1.0, c.duration / 3))
        for rnd in range(c.rounds):
            with self._super() as conn:
                planted_row = conn.execute("SELECT bench.plant_expired(%s, %s, %s)",
                                           (rnd, k, c.cleanup_rows)).fetchone()
            planted = int(planted_row[0]) if planted_row else 0
            without = self._pgbench("list/create", "api", scripts, clients, c.duration, variables)
            without_runs.append(without)
            calls: list[tuple[float, float, int, int]] = []  # start, end, deleted, freed
            failure: list[BaseException] = []
            pgbench_done = threading.Event()
            maint = self._connect(self.maint_dsn)
            try:
                maint.execute("SELECT 1")

                cleaner = threading.Thread(
                    target=self._cleanup_batches, daemon=True,
                    args=(maint, planted, delay, pgbench_done, calls, failure))
                try:
                    during = self._pgbench("list/create + cleanup", "api", scripts, clients,
                                           c.duration, variables, on_start=cleaner.start)
                finally:
                    pgbench_done.set()
                    cleaner.join()
                if failure:
                    raise BenchError(f"cleanup_expired_backups failed: {failure[0]}")
                if not calls:
                    raise BenchError("the cleanup batch did not start while the API load ran; "
                                     "use a longer --duration")
                with_runs.append(during)
                # What the batches left (rows of accounts busy at that moment) goes now.
                extra_calls = 0
                with self._super() as conn:
                    while True:
                        left = conn.execute("SELECT bench.expired_left()").fetchone()
                        if not left or int(left[0]) == 0 or extra_calls >= 100:
                            break
                        maint.execute("SELECT * FROM zkeb_maint.cleanup_expired_backups(%s)",
                                      (c.cleanup_rows,))
                        extra_calls += 1
            finally:
                maint.close()
            first = calls[0]
            deleted_during = sum(call[2] for call in calls)
            window = during.overlapping(first[0], calls[-1][1])
            p_during = during.percentiles_ms(window)
            p_without = without.percentiles_ms()
            entry = {
                "planted": planted,
                "batch_seconds": round(first[1] - first[0], 3),
                "deleted_in_batch": first[2],
                "bytes_freed_in_batch": first[3],
                "calls_during": len(calls),
                "deleted_during": deleted_during,
                "seconds_during": round(calls[-1][1] - first[0], 3),
                "all_deleted_during": deleted_during >= planted,
                "extra_calls_after": extra_calls,
                "p95_without_ms": p_without["p95_ms"],
                "p95_during_ms": p_during["p95_ms"],
                "p50_during_ms": p_during["p50_ms"],
                "p99_during_ms": p_during["p99_ms"],
                "transactions_during": len(window),
                "p95_whole_run_with_ms": during.percentiles_ms()["p95_ms"],
                "tps_without": round(without.tps, 1),
                "tps_with": round(during.tps, 1),
            }
            rounds.append(entry)
            self.ui.log(
                f"cleanup round {rnd + 1}/{c.rounds}: first batch {first[2]:,} of {planted:,} "
                f"expired rows in {entry['batch_seconds']:.3f} s; {deleted_during:,} in "
                f"{len(calls)} batches over {entry['seconds_during']:.2f} s; API p95 "
                f"{_fmt(entry['p95_during_ms'])} ms during ({len(window)} calls) vs "
                f"{_fmt(entry['p95_without_ms'])} ms without")
        p95_during = _median([r["p95_during_ms"] for r in rounds])
        p95_without = _median([r["p95_without_ms"] for r in rounds])
        return {
            "clients": clients,
            "accounts": k,
            "rows": c.cleanup_rows,
            "batch_seconds": _median([r["batch_seconds"] for r in rounds]),
            "deleted_in_batch": _median([r["deleted_in_batch"] for r in rounds]),
            "calls_during": _median([r["calls_during"] for r in rounds]),
            "deleted_during": _median([r["deleted_during"] for r in rounds]),
            "seconds_during": _median([r["seconds_during"] for r in rounds]),
            "p50_during_ms": _median([r["p50_during_ms"] for r in rounds]),
            "p95_during_ms": p95_during,
            "p99_during_ms": _median([r["p99_during_ms"] for r in rounds]),
            "p95_without_ms": p95_without,
            "p95_ratio": (round(p95_during / p95_without, 3)
                          if p95_during is not None and p95_without else None),
            "without": _summary(without_runs),
            "with": _summary(with_runs),
            "rounds": rounds,
        }

    def _cleanup_batches(self, conn: psycopg.Connection[Any], planted: int, delay: float,
                         done: threading.Event, calls: list[tuple[float, float, int, int]],
                         failure: list[BaseException]) -> None:
        """Batches one after the other, as ``zkeb-db maintain`` runs them, until every
        planted row is gone or the API load stops (a batch skips the rows of accounts
        that an API call holds locked at that moment)."""
        time.sleep(delay)
        try:
            deleted = 0
            while deleted < planted and not done.is_set():
                began = time.time()
                row = conn.execute(
                    "SELECT deleted_count, bytes_freed "
                    "FROM zkeb_maint.cleanup_expired_backups(%s)",
                    (self.config.cleanup_rows,)).fetchone()
                got = int(row[0]) if row else 0
                calls.append((began, time.time(), got, int(row[1]) if row else 0))
                deleted += got
        except BaseException as exc:
            failure.append(exc)

    def measure_mixed(self) -> dict[str, Any]:
        c = self.config
        clients = self.mixed_clients
        names = [name for name, _ in MIXED_WEIGHTS]
        api_runs: list[PgbenchRun] = []
        raw_runs: list[PgbenchRun] = []
        for rnd in range(c.rounds):
            for side, runs in (("api", api_runs), ("raw", raw_runs)):
                run = self._pgbench("mixed", side, _mixed(self.sql_dir, side), clients, c.duration)
                runs.append(run)
                p = run.percentiles_ms()
                self.ui.log(f"mixed {side} c={clients} round {rnd + 1}/{c.rounds}: "
                            f"{run.tps:,.0f} tps, p50 {_fmt(p['p50_ms'])} p95 "
                            f"{_fmt(p['p95_ms'])} p99 {_fmt(p['p99_ms'])} ms")
        ratio, ratio_rounds = _ratio(api_runs, raw_runs)
        return {
            "clients": clients,
            "weights": dict(MIXED_WEIGHTS),
            "api": _summary(api_runs),
            "raw": _summary(raw_runs),
            "ratio": ratio,
            "ratio_rounds": ratio_rounds,
            "api_by_operation": api_runs[-1].by_script(names),
            "raw_by_operation": raw_runs[-1].by_script(names),
        }

    def _profile_reset(self) -> None:
        if self.config.profile:
            with self._super() as conn:
                conn.execute("SELECT bench.pg_stat_statements_reset()")

    def _profile_top(self) -> list[dict[str, Any]]:
        if not self.config.profile:
            return []
        with self._super() as conn:
            rows = conn.execute(
                "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 240), calls,"
                " round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 4),"
                " shared_blks_hit, shared_blks_read, toplevel"
                " FROM bench.pg_stat_statements"
                " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " ORDER BY total_exec_time DESC LIMIT 15").fetchall()
        return [{"query": r[0], "calls": int(r[1]), "total_ms": float(r[2]),
                 "mean_ms": float(r[3]), "shared_blks_hit": int(r[4]),
                 "shared_blks_read": int(r[5]), "toplevel": bool(r[6])} for r in rows]

    # -- after ------------------------------------------------------------

    def after_checks(self) -> dict[str, Any]:
        checks = self.data_checks()
        with self._super() as conn:
            raw_ids = {str(r[0]) for r in conn.execute(
                "SELECT user_id FROM bench.users WHERE kind = 'raw'").fetchall()}
        on_raw = [v for v in checks["invariant_violations"] if v["user_id"] in raw_ids]
        elsewhere = [v for v in checks["invariant_violations"] if v["user_id"] not in raw_ids]
        return {
            "audit_chain": checks["audit_chain"],
            "violations_on_raw_twin_accounts": len(on_raw),
            "violations_elsewhere": elsewhere,
        }

    def server_info(self) -> dict[str, Any]:
        with self._super() as conn:
            version = conn.execute("SELECT version()").fetchone()
            settings = dict(conn.execute(
                "SELECT name, current_setting(name) FROM pg_settings"
                " WHERE name = ANY(%s)", (list(SERVER_SETTINGS),)).fetchall())
        return {
            "version": version[0] if version else None,
            "embedded": self.server.embedded,
            "database": self.dbname,
            "roles": [self.app_role, self.maint_role],
            "settings": settings,
            "clients": list(self.clients),
            "client_limit": self.server.client_limit,
            "notes": self.server.notes,
        }


def machine_info() -> dict[str, Any]:
    cpu = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "memory_bytes": _mem_total_bytes(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def run_bench(args: argparse.Namespace, config: BenchConfig, console: Console) -> dict[str, Any]:
    """Run the whole benchmark; returns the JSON document it also writes to ``--out``."""
    from zkeb_db.bench_report import evaluate_targets, render_table, write_outputs
    from zkeb_db.dbopts import project_dir

    started = datetime.now(UTC)
    project = project_dir(args)
    document: dict[str, Any] = {
        "zkeb_db_version": zkeb_db.__version__,
        "started_at": started.isoformat(timespec="seconds"),
        "command": config.command(),
        "machine": machine_info(),
        "params": {k: (list(v) if isinstance(v, tuple) else v)
                   for k, v in asdict(config).items() if k not in ("out", "db_given")},
    }
    with Ui(console) as ui, _open_server(args, config, ui) as server:
        bench = Bench(config, server, ui, project)
        for note in server.notes:
            ui.log(note)
        try:
            bench.create_database()
            document["server"] = bench.server_info()
            bench.load()
            bench.measure()
            document["after"] = bench.after_checks()
            document["server"]["notes"] = server.notes
        finally:
            bench.drop()
        document.update(bench.result)
    document["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    document["machine"]["loadavg_at_end"] = list(os.getloadavg())
    document["targets"] = evaluate_targets(document)
    render_table(document, console)
    paths = write_outputs(document, config.out)
    console.print("wrote " + ", ".join(str(p) for p in paths))
    json.dumps(document)  # the document must serialise (raises otherwise)
    return document
