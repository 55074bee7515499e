"""``zkeb-db schema-snapshot``: regenerate (or ``--check``) ``sql/schema.sql``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import psycopg

from zkeb_db.cli import CommandError
from zkeb_db.dbopts import add_db_argument, open_database, project_dir


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "schema-snapshot",
        help="regenerate sql/schema.sql from a fresh deploy (--check: fail when stale)",
        description=(
            "Deploy the plan into a scratch database on the server, dump it with "
            "pg_dump --schema-only (without the sqitch registry), normalise the dump and "
            "write it to sql/schema.sql. With --check, compare instead and exit 1 when the "
            "file is stale (2 when it was made with another server major version). The "
            "server is --db (any database on it; the scratch database is created and "
            "dropped there), else a private throwaway PostgreSQL."
        ),
    )
    add_db_argument(p, embedded_ok=True)
    p.add_argument("--check", action="store_true",
                   help="compare with the file instead of writing it")
    p.add_argument("--chdir", metavar="DIR", default=None,
                   help="the Sqitch project (default: the current directory or the repository)")
    p.add_argument("--output", metavar="FILE", default=None,
                   help="the snapshot file (default: sql/schema.sql in the project)")
    p.add_argument("--deployer", choices=("auto", "zkeb-db", "sqitch"), default="auto",
                   help="deploy with the package's deployer, real sqitch, or the first "
                   "available (default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zkeb_db.snapshot import (
        SNAPSHOT_PATH,
        SnapshotError,
        diff,
        fresh_snapshot,
        snapshot_major,
    )

    project = project_dir(args)
    output = Path(args.output) if args.output else project / SNAPSHOT_PATH
    with open_database(args) as dsn:
        try:
            text = fresh_snapshot(dsn, project, deployer=args.deployer)
        except SnapshotError as exc:
            raise CommandError(str(exc)) from None
        except psycopg.Error as exc:
            raise CommandError(str(exc).strip().splitlines()[0]) from None
    if not args.check:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output} ({len(text.splitlines())} lines)")
        return 0
    try:
        current = output.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{output} does not exist: run zkeb-db schema-snapshot") from None
    want, have = snapshot_major(current), snapshot_major(text)
    if want != have:
        print(
            f"{output} was made with PostgreSQL {want}, this server is {have}: not comparable",
            file=sys.stderr,
        )
        return 2
    if current == text:
        print(f"{output} is up to date")
        return 0
    print(diff(current, text, old_name=str(output)))
    print(f"{output} is stale: run zkeb-db schema-snapshot", file=sys.stderr)
    return 1
