"""``zkeb-db bench``: the benchmark (every hot API path against its raw-SQL twin)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from zkeb_db.cli import CommandError
from zkeb_db.dbopts import add_db_argument


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def register(sub: Any) -> None:
    from zkeb_db.bench import parse_clients

    p: argparse.ArgumentParser = sub.add_parser(
        "bench",
        help="benchmark every hot API path against its raw-SQL twin with pgbench",
        description=(
            "Load a heavy user and many others, then drive each API path and its raw-SQL "
            "twin (the same storage work straight on the tables, as a superuser) with "
            "pgbench at several client counts, interleaved A B A B; print one table and "
            "write JSON and Markdown. Without --db it runs on a private PostgreSQL of its "
            "own (so it can allow the clients it needs); with --db it needs a superuser, "
            "works in a scratch database it creates and drops, and uses no more clients "
            "than the server allows. See docs/benchmarks.md."
        ),
    )
    add_db_argument(p, embedded_ok=True)
    p.add_argument("--quick", action="store_true",
                   help="a small run of about a minute (20,000 + 20 x 200 backups, "
                   "clients 1,16, one round of 1 s)")
    p.add_argument("--backups", type=_positive, default=None,
                   help="backups of the heavy user (default 1,000,000)")
    p.add_argument("--users", type=_positive, default=None,
                   help="other accounts (default 1,000)")
    p.add_argument("--per-user", type=_positive, default=None, dest="per_user",
                   help="backups of each other account (default 1,000)")
    p.add_argument("--clients", type=parse_clients, default=None,
                   help="pgbench client counts, comma-separated (default 1,16,100)")
    p.add_argument("--rounds", type=_positive, default=None,
                   help="rounds of API + raw twin per workload and client count (default 3)")
    p.add_argument("--duration", type=_positive, default=None,
                   help="seconds per pgbench run (default 5)")
    p.add_argument("--warmup", type=_positive, default=None,
                   help="seconds of unmeasured warm-up per workload and side (default 2)")
    p.add_argument("--out", type=Path, default=Path("bench-results"),
                   help="directory for the JSON and Markdown results (default ./bench-results)")
    p.add_argument("--profile", action="store_true",
                   help="collect pg_stat_statements (track=all) per workload into the JSON; "
                   "it slows the API side, so do not compare ratios of such a run")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from zkeb_db.bench import BenchError, config_from_args, run_bench

    try:
        config = config_from_args(args)
        # Not a terminal (a log file, a pipe): wide enough for the results table.
        console = Console() if sys.stdout.isatty() else Console(width=170)
        run_bench(args, config, console)
    except BenchError as exc:
        raise CommandError(str(exc)) from None
    return 0
