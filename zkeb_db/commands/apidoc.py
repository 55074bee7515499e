"""``zkeb-db apidoc``: (re)generate docs/api-reference.md from the catalog of a
freshly deployed database; ``--check`` fails when the committed file is stale."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path
from typing import Any

import psycopg

from zkeb_db.cli import CommandError
from zkeb_db.dbopts import add_db_argument, open_database, project_dir, resolve_dsn

DEFAULT_OUTPUT = Path("docs") / "api-reference.md"


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "apidoc",
        help="generate docs/api-reference.md from the database catalog (--check: fail if stale)",
        description=(
            "Read every zkeb_api and zkeb_maint function (signature, result columns, "
            "COMMENT ON FUNCTION and its Errors: codes) from the catalog and the ZK error "
            "registry, and write the SQL API reference. Without --db the plan is deployed "
            "into a private throwaway PostgreSQL first; with --db that database is read as "
            "it is (deploy it first)."
        ),
    )
    add_db_argument(p, embedded_ok=True)
    p.add_argument(
        "--output",
        metavar="FILE",
        type=Path,
        default=None,
        help="where to write (default: docs/api-reference.md of the project)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a diff when FILE differs from what would be generated",
    )
    p.add_argument("--chdir", metavar="DIR", default=None, help="the Sqitch project directory")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from zkeb_db.apidoc import error_registry, generate, problems, read_functions

    output: Path = args.output or project_dir(args) / DEFAULT_OUTPUT
    fresh = resolve_dsn(args) is None
    with open_database(args, deploy=fresh) as dsn:
        try:
            with psycopg.connect(dsn, autocommit=True, application_name="zkeb-db apidoc") as conn:
                text = generate(conn)
                issues = problems(read_functions(conn), error_registry())
        except psycopg.OperationalError as exc:
            raise CommandError(f"cannot connect: {str(exc).strip()}") from None
    for issue in issues:
        print(f"zkeb-db apidoc: warning: {issue}", file=sys.stderr)
    if args.check:
        try:
            current = output.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{output} does not exist; run `zkeb-db apidoc`") from None
        if current == text:
            print(f"{output} is up to date")
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=str(output),
            tofile="generated",
        )
        sys.stdout.writelines(diff)
        print(f"zkeb-db apidoc: {output} is stale; run `zkeb-db apidoc`", file=sys.stderr)
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0
