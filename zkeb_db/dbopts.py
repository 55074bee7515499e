"""The ``--db`` option shared by every ``zkeb-db`` command that needs a database.

A command's ``register()`` calls :func:`add_db_argument` on its parser, and its
``func(args)`` opens the database with :func:`open_database`::

    def register(sub):
        p = sub.add_parser("status", help="...")
        add_db_argument(p, embedded_ok=False)
        p.set_defaults(func=run)

    def run(args):
        with open_database(args) as dsn:
            ...

The database is chosen in this order:

1. ``--db URI``: a ``postgresql://`` (or ``postgres://``) URI, a libpq
   conninfo string (``host=... dbname=...``), a bare database name, or a Sqitch
   target URI ``db:pg://user@host:port/dbname`` / ``db:pg:dbname``;
2. ``$ZKEB_DB_URI`` (same forms);
3. the libpq variables ``PGHOST``, ``PGHOSTADDR``, ``PGPORT``, ``PGDATABASE``,
   ``PGUSER`` or ``PGSERVICE``, if any is set (the other ``PG*`` variables,
   such as ``PGPASSWORD`` or ``PGSSLMODE``, keep working through libpq);
4. for commands registered with ``embedded_ok=True`` only: a private
   throwaway PostgreSQL cluster for the run (:mod:`zkeb_db.embedded`), kept
   with ``--keep`` under ``$ZKEB_DB_HOME`` (default
   ``~/.local/share/zkeb-db/embedded``; ``/var/lib/zkeb-db/embedded`` for root).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from zkeb_db.cli import CommandError

__all__ = [
    "LIBPQ_SERVER_VARS",
    "add_db_argument",
    "normalize_dsn",
    "open_database",
    "project_dir",
    "resolve_dsn",
]

LIBPQ_SERVER_VARS = {
    "PGHOST": "host",
    "PGHOSTADDR": "hostaddr",
    "PGPORT": "port",
    "PGDATABASE": "dbname",
    "PGUSER": "user",
    "PGSERVICE": "service",
}
"""The libpq environment variables that, when set, name a server to use."""

_EMBEDDED_FLAG = "_zkeb_db_embedded_ok"


def add_db_argument(parser: argparse.ArgumentParser, *, embedded_ok: bool) -> None:
    """Add ``--db`` (and, when ``embedded_ok``, ``--keep``) to a command's parser."""
    fallback = (
        ", else a private throwaway PostgreSQL started for this run"
        if embedded_ok
        else ""
    )
    parser.add_argument(
        "--db",
        metavar="URI",
        default=None,
        help=(
            "the database: postgresql:// URI, libpq conninfo or Sqitch db:pg: URI "
            f"(default: $ZKEB_DB_URI, else the libpq PG* variables{fallback})"
        ),
    )
    if embedded_ok:
        parser.add_argument(
            "--keep",
            action="store_true",
            help=(
                "when the private PostgreSQL is used, keep its data and reuse it next time "
                "(in $ZKEB_DB_HOME, default ~/.local/share/zkeb-db/embedded; "
                "/var/lib/zkeb-db/embedded for root)"
            ),
        )
    parser.set_defaults(**{_EMBEDDED_FLAG: embedded_ok})


def normalize_dsn(text: str) -> str:
    """Turn any accepted ``--db`` form into something libpq and psycopg accept.

    ``postgresql://`` and ``postgres://`` URIs and conninfo strings pass
    through unchanged; a Sqitch ``db:pg:`` URI becomes a ``postgresql:``
    URI; a bare word is a database name.  Raises :class:`CommandError` when
    libpq cannot parse the result.
    """
    value = text.strip()
    if value.startswith("db:"):
        engine, _, rest = value[3:].partition(":")
        if engine not in ("pg", "postgres", "postgresql"):
            raise CommandError(f"not a PostgreSQL target URI: {text!r}")
        if rest.startswith("//"):
            value = "postgresql:" + rest
        elif rest == "":
            value = ""
        else:
            value = "postgresql:///" + rest
    elif "://" not in value and "=" not in value and value:
        value = make_conninfo(dbname=value)
    try:
        conninfo_to_dict(value)
    except psycopg.ProgrammingError as exc:
        raise CommandError(f"cannot parse the database URI {text!r}: {str(exc).strip()}") from None
    return value


def resolve_dsn(args: argparse.Namespace) -> tuple[str, str] | None:
    """The conninfo to use and where it came from, or None when nothing names a server."""
    given = getattr(args, "db", None)
    if given:
        return normalize_dsn(given), "--db"
    env_uri = os.environ.get("ZKEB_DB_URI")
    if env_uri:
        return normalize_dsn(env_uri), "ZKEB_DB_URI"
    params = {
        key: os.environ[var]
        for var, key in LIBPQ_SERVER_VARS.items()
        if os.environ.get(var)
    }
    if params:
        return make_conninfo(**params), "PG* variables"
    return None


@contextmanager
def open_database(
    args: argparse.Namespace,
    *,
    deploy: bool = False,
    max_connections: int | None = None,
) -> Iterator[str]:
    """Yield a conninfo for the database the user chose (see the module docstring).

    With no database given and a command that allows it, a private
    PostgreSQL is started for the duration of the ``with`` block and its
    superuser URI is yielded; a one-line notice goes to stderr.
    ``max_connections`` applies to that private server only.  With
    ``deploy=True`` the project plan (:func:`project_dir`) is deployed first
    with ``zkeb_db.sqitch.deploy_project``.
    """
    resolved = resolve_dsn(args)
    if resolved is not None:
        dsn = resolved[0]
        if deploy:
            _deploy(args, dsn)
        yield dsn
        return
    if not getattr(args, _EMBEDDED_FLAG, False):
        raise CommandError(
            "no database given: use --db URI, or set ZKEB_DB_URI or the libpq PG* variables"
        )
    from zkeb_db.embedded import EmbeddedError, EmbeddedPostgres

    keep = bool(getattr(args, "keep", False))
    server = EmbeddedPostgres(keep=keep, max_connections=max_connections or 100)
    try:
        server.start()
    except EmbeddedError as exc:
        server.close()
        raise CommandError(f"cannot start the private PostgreSQL: {exc}") from None
    except BaseException:
        server.close()
        raise
    try:
        assert server.install is not None
        where = f"data kept in {server.base_dir}" if keep else "removed at exit; --keep keeps it"
        print(
            f"zkeb-db: no --db given: started a private PostgreSQL {server.install.version} "
            f"at {server.uri} ({where})",
            file=sys.stderr,
        )
        if deploy:
            _deploy(args, server.uri)
        yield server.uri
    finally:
        try:
            server.close()
        except EmbeddedError as exc:
            print(f"zkeb-db: {exc}", file=sys.stderr)


def _deploy(args: argparse.Namespace, dsn: str) -> None:
    try:
        from zkeb_db.sqitch import deploy_project  # type: ignore[attr-defined,unused-ignore]
        from zkeb_db.sqitch.errors import SqitchError
    except ImportError as exc:
        raise CommandError(f"the deployer (zkeb_db.sqitch) is not available: {exc}") from None
    try:
        deploy_project(project_dir(args), dsn)
    except SqitchError as exc:
        raise CommandError(f"deploy failed: {exc}", exit_code=exc.exit_code) from None


def project_dir(args: argparse.Namespace | None = None) -> Path:
    """The Sqitch project to work on.

    ``--chdir DIR`` when given (it must hold ``sqitch.plan``); else the current
    directory if it holds ``sqitch.plan``; else the zkeb-db repository next to
    the installed package (an editable install), or the copy of the project
    shipped inside the package (``zkeb_db/project``).
    """
    chdir = getattr(args, "chdir", None) if args is not None else None
    if chdir:
        path = Path(chdir).resolve()
        if not (path / "sqitch.plan").is_file():
            raise CommandError(f"--chdir {chdir}: no sqitch.plan in {path}")
        return path
    cwd = Path.cwd()
    if (cwd / "sqitch.plan").is_file():
        return cwd
    package = Path(__file__).resolve().parent
    for candidate in (package.parent, package / "project"):
        if (candidate / "sqitch.plan").is_file():
            return candidate
    raise CommandError(
        f"no sqitch.plan in the current directory ({cwd}) nor next to the zkeb_db package "
        f"({package.parent}); use --chdir DIR"
    )
