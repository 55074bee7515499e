"""Shared fixtures (the contract is docs/internals.md, "Tests").

``pg_server`` (session)
    Superuser URI/conninfo of a server: ``$ZKEB_TEST_DSN``; else
    ``postgres@127.0.0.1:5432`` when it answers as a superuser; else a
    throwaway cluster (:mod:`zkeb_db.embedded`) started for the session.
    ``ZKEB_TEST_SERVER=embedded`` skips the probe and always starts one.
``template_db`` (session)
    A database named ``zkeb_test_tpl_<pid>_<n>``, deployed once from the
    repository's ``sqitch.plan`` with ``python -m zkeb_db deploy`` (or real
    ``sqitch deploy`` when ``ZKEB_TEST_DEPLOYER=sqitch``), marked
    ``IS_TEMPLATE``, dropped at the end of the session.  Tests must not keep
    connections to it: ``CREATE DATABASE ... TEMPLATE`` needs it idle.
``db`` (function)
    A fresh clone ``zkeb_test_<pid>_<n>`` of the template with the template's
    database privileges copied over and ``REVOKE TEMPORARY ... FROM PUBLIC``
    re-applied (``CREATE DATABASE`` copies neither).  ``db.name``, ``db.dsn``
    (superuser URI), ``db.dsn_for(role)``, ``db.connect(role, autocommit=True,
    **kw)`` with role ``"super"``, ``"app"``, ``"maint"`` or ``"auditor"``
    (login roles ``zkeb_test_app``, ``zkeb_test_maint``, ``zkeb_test_auditor``,
    members of ``zkeb_app``, ``zkeb_maintainer``, ``zkeb_auditor``), and
    ``db.sqitch_target`` (``db:pg://...``).  After the test, connections
    made with ``connect`` are closed, the clone stops accepting connections
    and every backend still connected to it is terminated; it is then dropped
    in the background (``DROP DATABASE`` waits for a checkpoint), and all
    clones are gone when the session ends.
``project_dir``
    The repository root.

Options: ``--slow`` runs tests marked ``slow`` (skipped otherwise) and loads
the hypothesis profile ``slow`` instead of ``ci``.  Tests marked ``sqitch`` /
``pgbouncer`` are skipped when the binary is missing, except under ``CI=true``
where that is an error (CI installs both).

Names carry the pid and a counter, so several pytest processes can share one
server.  Databases left by a killed session on a local server are dropped by
the next session.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

REPO = Path(__file__).resolve().parent.parent
LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
TEMPLATE_PREFIX = "zkeb_test_tpl_"
CLONE_PREFIX = "zkeb_test_"

# role alias -> (login role, group role)
LOGIN_ROLES: dict[str, tuple[str, str]] = {
    "app": ("zkeb_test_app", "zkeb_app"),
    "maint": ("zkeb_test_maint", "zkeb_maintainer"),
    "auditor": ("zkeb_test_auditor", "zkeb_auditor"),
}

_names = itertools.count(1)


def unique_name(prefix: str) -> str:
    """``<prefix><pid>_<n>``: unique across the pytest processes sharing a server."""
    return f"{prefix}{os.getpid()}_{next(_names)}"


# --------------------------------------------------------------------------
# Options, markers, hypothesis profiles
# --------------------------------------------------------------------------

settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "slow",
    max_examples=1000,
    stateful_step_count=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="run the tests marked slow and use the bigger hypothesis profile 'slow'",
    )


def pytest_configure(config: pytest.Config) -> None:
    # hypothesis' own --hypothesis-profile, when given, wins.
    if config.getoption("hypothesis_profile", None) is None:
        settings.load_profile("slow" if config.getoption("--slow") else "ci")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip_slow = pytest.mark.skip(reason="slow test: run with --slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip_slow)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, binary in (("sqitch", "sqitch"), ("pgbouncer", "pgbouncer")):
        if item.get_closest_marker(marker) is None:
            continue
        if shutil.which(binary) or Path(f"/usr/sbin/{binary}").exists():
            continue
        message = f"{binary} is not installed (Debian package {binary})"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI must install it (.ci/run)", pytrace=False)
        pytest.skip(message)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def conninfo_to_uri(conninfo: str, *, drop: tuple[str, ...] = (), **overrides: str) -> str:
    """A ``postgresql://`` URI equivalent to a conninfo (URI or ``key=value``).

    ``overrides`` replace parameters, ``drop`` removes them.
    """
    params: dict[str, Any] = {
        k: v for k, v in conninfo_to_dict(conninfo).items() if v is not None and k not in drop
    }
    params.update(overrides)
    user = params.pop("user", None)
    password = params.pop("password", None)
    host = params.pop("host", None)
    port = params.pop("port", None)
    dbname = params.pop("dbname", None)
    auth = ""
    if user is not None:
        auth = quote(str(user), safe="")
        if password is not None:
            auth += ":" + quote(str(password), safe="")
        auth += "@"
    hostpart = quote(str(host), safe="") if host is not None else ""
    if port is not None:
        hostpart += f":{port}"
    uri = f"postgresql://{auth}{hostpart}/"
    if dbname is not None:
        uri += quote(str(dbname), safe="")
    if params:
        uri += "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in sorted(params.items()))
    return uri


def _superuser_ok(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.OperationalError:
        return False
    return bool(row and row[0])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _server_is_local(dsn: str) -> bool:
    host = conninfo_to_dict(dsn).get("host") or os.environ.get("PGHOST") or ""
    return all(h in ("", "localhost", "127.0.0.1", "::1") or h.startswith("/")
               for h in str(host).split(","))


def _sweep_stale_databases(server: str) -> None:
    """Drop test databases of sessions that died without cleaning up (local server only)."""
    if not _server_is_local(server):
        return
    pattern = rf"^{CLONE_PREFIX}(tpl_)?[0-9]+_[0-9]+$"
    with psycopg.connect(server, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_catalog.pg_database WHERE datname ~ %s", [pattern]
        ).fetchall()
        for (name,) in rows:
            pid = int(name.rsplit("_", 2)[1])
            if pid == os.getpid() or _pid_alive(pid):
                continue
            with contextlib.suppress(psycopg.Error):
                drop_database(server, name)


def drop_database(server: str, name: str) -> None:
    """Drop a database, ending the backends still connected to it."""
    with psycopg.connect(server, autocommit=True) as conn:
        ident = sql.Identifier(name)
        row = conn.execute(
            "SELECT datistemplate FROM pg_catalog.pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is None:
            return
        if row[0]:
            conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(ident))
        if conn.info.server_version >= 130000:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        else:  # pragma: no cover - PostgreSQL 12 and older
            conn.execute(
                "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_catalog.pg_backend_pid()",
                [name],
            )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(ident))


def retire_database(server: str, name: str) -> None:
    """Make a database unusable at once: no new connections, existing backends ended."""
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name))
        )
        conn.execute(
            "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_catalog.pg_backend_pid()",
            [name],
        )


class _Dropper:
    """Drops retired clones in a background thread, in parallel batches.

    ``DROP DATABASE`` waits for a checkpoint (seconds on a busy server with
    fsync on), and concurrent drops share one: so the clones are dropped
    while the next tests run, all that are waiting at once, and the template
    fixture waits for the last of them at the end of the session.
    """

    batch = 4  # connections used at once: the server may be shared

    def __init__(self, server: str) -> None:
        self.server = server
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.errors: list[str] = []
        self.thread: threading.Thread | None = None

    def submit(self, name: str) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="zkeb-test-dropper",
                                           daemon=True)
            self.thread.start()
        self.queue.put(name)

    def _drop(self, name: str) -> None:
        try:
            drop_database(self.server, name)
        except Exception as exc:  # reported by close()
            self.errors.append(f"{name}: {exc}")

    def _run(self) -> None:
        done = False
        while not done:
            names: list[str] = []
            item = self.queue.get()
            while item is not None:
                names.append(item)
                if len(names) >= self.batch:
                    break
                try:
                    item = self.queue.get_nowait()
                except queue.Empty:
                    break
            done = item is None
            workers = [threading.Thread(target=self._drop, args=(n,)) for n in names]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()

    def close(self, timeout: float = 600.0) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join(timeout)
            if self.thread.is_alive():
                raise RuntimeError(f"dropping the test databases took more than {timeout:g}s")
            self.thread = None
        if self.errors:
            raise RuntimeError("could not drop test databases: " + "; ".join(self.errors))


_droppers: dict[str, _Dropper] = {}


def deploy_template(server: str, name: str, project: Path) -> None:
    """Deploy ``project``'s plan into the (existing) database ``name``.

    With ``ZKEB_TEST_DEPLOYER=sqitch`` real Sqitch deploys it (the libpq
    variables carry the server, the target is ``db:pg:``); otherwise
    ``python -m zkeb_db deploy``.  Raises ``RuntimeError`` with the output.
    """
    target_dsn = make_conninfo(server, dbname=name)
    env = dict(os.environ)
    if os.environ.get("ZKEB_TEST_DEPLOYER", "zkeb-db") == "sqitch":
        sqitch = shutil.which("sqitch")
        if sqitch is None:
            raise RuntimeError("ZKEB_TEST_DEPLOYER=sqitch but sqitch is not installed")
        params = conninfo_to_dict(target_dsn)
        for key, var in (("host", "PGHOST"), ("hostaddr", "PGHOSTADDR"), ("port", "PGPORT"),
                         ("user", "PGUSER"), ("password", "PGPASSWORD"),
                         ("dbname", "PGDATABASE"), ("sslmode", "PGSSLMODE")):
            env.pop(var, None)
            if params.get(key) is not None:
                env[var] = str(params[key])
        cmd = [sqitch, "deploy", "db:pg:"]
    else:
        cmd = [sys.executable, "-m", "zkeb_db", "deploy", "--db", target_dsn,
               "--chdir", str(project)]
    try:
        proc = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True,
                              timeout=900)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"{' '.join(cmd)} did not finish in {exc.timeout}s") from None
    if proc.returncode != 0:
        def tail(text: str) -> str:
            return "\n".join(text.rstrip().splitlines()[-60:])

        raise RuntimeError(
            f"deploying {project / 'sqitch.plan'} into the template {name} failed: "
            f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout (tail)\n{tail(proc.stdout)}"
            f"\n--- stderr (tail)\n{tail(proc.stderr)}"
        )


def ensure_login_roles(server: str) -> None:
    """Create the test login roles as members of the group roles; tolerate existing ones."""
    with psycopg.connect(server, autocommit=True) as conn:
        for login, group in LOGIN_ROLES.values():
            conn.execute(
                sql.SQL(
                    "DO $$ BEGIN CREATE ROLE {} LOGIN; "
                    "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                ).format(sql.Identifier(login))
            )
            row = conn.execute(
                "SELECT rolcanlogin, rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb, "
                "       pg_catalog.pg_has_role(oid, %s, 'MEMBER') "
                "FROM pg_catalog.pg_roles WHERE rolname = %s",
                [group, login],
            ).fetchone()
            assert row is not None
            can_login, too_strong, is_member = row
            if not can_login or too_strong:
                conn.execute(
                    sql.SQL(
                        "ALTER ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB"
                    ).format(sql.Identifier(login))
                )
            if not is_member:
                conn.execute(
                    sql.SQL(
                        "DO $$ BEGIN GRANT {} TO {}; "
                        "EXCEPTION WHEN unique_violation THEN NULL; END $$"
                    ).format(sql.Identifier(group), sql.Identifier(login))
                )


def clone_database(server: str, template: str, name: str) -> None:
    """``CREATE DATABASE name TEMPLATE template``, then copy the database privileges.

    ``CREATE DATABASE`` gives the clone default privileges; the template's
    ACL (``REVOKE TEMPORARY/CREATE ... FROM PUBLIC``, grants) is copied entry
    by entry and ``REVOKE TEMPORARY ON DATABASE ... FROM PUBLIC`` applied.
    """
    ident = sql.Identifier(name)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(ident, sql.Identifier(template))
        )
        try:
            owner, has_acl = conn.execute(
                "SELECT datdba, datacl IS NOT NULL FROM pg_catalog.pg_database WHERE datname = %s",
                [template],
            ).fetchone() or (None, False)
            if has_acl:
                conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident))
                entries = conn.execute(
                    "SELECT a.grantee, CASE WHEN a.grantee = 0 THEN NULL "
                    "                       ELSE a.grantee::regrole::text END, "
                    "       a.privilege_type, a.is_grantable "
                    "FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) a "
                    "WHERE d.datname = %s",
                    [template],
                ).fetchall()
                for grantee_oid, grantee, privilege, grantable in entries:
                    if grantee_oid == owner:
                        continue
                    conn.execute(
                        sql.SQL("GRANT {} ON DATABASE {} TO {}{}").format(
                            sql.SQL(privilege),
                            ident,
                            sql.SQL("PUBLIC") if grantee is None else sql.SQL(grantee),
                            sql.SQL(" WITH GRANT OPTION") if grantable else sql.SQL(""),
                        )
                    )
            conn.execute(sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(ident))
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            raise


@dataclass
class TestDatabase:
    """A per-test clone of the template (the ``db`` fixture)."""

    __test__ = False  # not a test class

    name: str
    server: str
    _connections: list[psycopg.Connection[Any]] = field(default_factory=list, repr=False)

    @property
    def dsn(self) -> str:
        """Superuser URI of this database."""
        return conninfo_to_uri(self.server, dbname=self.name)

    def dsn_for(self, role: str = "super") -> str:
        """URI of this database as ``role`` (``super``, ``app``, ``maint``, ``auditor``)."""
        if role == "super":
            return self.dsn
        try:
            login = LOGIN_ROLES[role][0]
        except KeyError:
            raise ValueError(
                f"unknown role {role!r}: use 'super', {', '.join(map(repr, LOGIN_ROLES))}"
            ) from None
        # The test roles have no password: the server must trust local connections.
        return conninfo_to_uri(self.server, drop=("password",), dbname=self.name, user=login)

    @property
    def sqitch_target(self) -> str:
        """This database as a Sqitch target URI (``db:pg://...``)."""
        return "db:pg:" + self.dsn[len("postgresql:"):]

    def connect(
        self, role: str = "super", *, autocommit: bool = True, **kwargs: Any
    ) -> psycopg.Connection[Any]:
        """A new connection as ``role``; it is closed after the test."""
        conn: psycopg.Connection[Any] = psycopg.connect(
            self.dsn_for(role), autocommit=autocommit, **kwargs
        )
        self._connections.append(conn)
        return conn

    def close_connections(self) -> None:
        for conn in self._connections:
            conn.close()
        self._connections.clear()


@dataclass(frozen=True)
class TemplateDatabase:
    """The deployed template (the ``template_db`` fixture)."""

    name: str
    server: str

    @property
    def dsn(self) -> str:
        """Superuser URI of the template: close every connection before the next clone."""
        return conninfo_to_uri(self.server, dbname=self.name)


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def project_dir() -> Path:
    """The repository root (where ``sqitch.plan`` lives)."""
    return REPO


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Superuser conninfo of the server the tests use (see the module docstring)."""
    given = os.environ.get("ZKEB_TEST_DSN")
    if given:
        if not _superuser_ok(given):
            pytest.fail(f"ZKEB_TEST_DSN={given!r} does not connect as a superuser",
                        pytrace=False)
        yield given
        return
    if os.environ.get("ZKEB_TEST_SERVER") != "embedded" and _superuser_ok(LOCAL_SERVER):
        yield LOCAL_SERVER
        return
    from zkeb_db.embedded import EmbeddedPostgres

    with EmbeddedPostgres(max_connections=200) as server:
        yield server.uri


@pytest.fixture(scope="session")
def template_db(pg_server: str, project_dir: Path) -> Iterator[TemplateDatabase]:
    """The project deployed once into a template database for this session."""
    _sweep_stale_databases(pg_server)
    name = unique_name(TEMPLATE_PREFIX)
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        deploy_template(pg_server, name, project_dir)
        ensure_login_roles(pg_server)
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE true").format(sql.Identifier(name)))
        yield TemplateDatabase(name, pg_server)
    finally:
        try:
            dropper = _droppers.pop(pg_server, None)
            if dropper is not None:
                dropper.close()
        finally:
            drop_database(pg_server, name)


@pytest.fixture
def db(pg_server: str, template_db: TemplateDatabase) -> Iterator[TestDatabase]:
    """A fresh clone of the template for one test, dropped afterwards."""
    name = unique_name(CLONE_PREFIX)
    clone_database(pg_server, template_db.name, name)
    database = TestDatabase(name, pg_server)
    try:
        yield database
    finally:
        try:
            database.close_connections()
        finally:
            retire_database(pg_server, name)
            _droppers.setdefault(pg_server, _Dropper(pg_server)).submit(name)


# --- connections to the per-test clone, one per group role ------------------
# (shared by tests/api, tests/maint and tests/reliability)


@pytest.fixture
def su(db: Any) -> psycopg.Connection[Any]:
    """Superuser connection (bypasses RLS): set-up, planted bugs and checks."""
    conn: psycopg.Connection[Any] = db.connect("super")
    return conn


@pytest.fixture
def maint(db: Any) -> psycopg.Connection[Any]:
    """Autocommit connection as a member of zkeb_maintainer."""
    conn: psycopg.Connection[Any] = db.connect("maint")
    return conn


@pytest.fixture
def auditor(db: Any) -> psycopg.Connection[Any]:
    """Autocommit connection as a member of zkeb_auditor."""
    conn: psycopg.Connection[Any] = db.connect("auditor")
    return conn


@pytest.fixture
def app_conn(db: Any) -> psycopg.Connection[Any]:
    """Autocommit connection as the application login role (member of zkeb_app)."""
    conn: psycopg.Connection[Any] = db.connect("app")
    return conn


@pytest.fixture
def client(app_conn: psycopg.Connection[Any]) -> Any:
    """A :class:`zkeb_db.client.Client` over ``app_conn``."""
    from zkeb_db.client import Client

    return Client(app_conn)

