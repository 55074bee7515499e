"""The ``zkeb-db`` command line: a thin dispatcher over ``zkeb_db.commands``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import typing
from collections.abc import Sequence

import zkeb_db
import zkeb_db.commands


class CommandError(Exception):
    """A failure the user must see as one line on stderr and a non-zero exit."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line usage error (the usage itself is behind --help)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="zkeb-db",
        description="Deploy, call and check the zkeb-db PostgreSQL data layer.",
    )
    parser.add_argument("--version", action="version", version=f"zkeb-db {zkeb_db.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for info in sorted(pkgutil.iter_modules(zkeb_db.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"zkeb_db.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
    except CommandError as exc:
        print(f"zkeb-db {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"zkeb-db {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
