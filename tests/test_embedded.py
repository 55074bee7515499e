"""The embedded (private, throwaway) PostgreSQL server (zkeb_db.embedded) and
the ``--db`` option that falls back on it (zkeb_db.dbopts).

Every server test starts a real cluster with the machine's PostgreSQL binaries.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from zkeb_db import dbopts, embedded
from zkeb_db.cli import CommandError
from zkeb_db.embedded import EmbeddedError, EmbeddedPostgres

IS_ROOT = os.geteuid() == 0
root_only = pytest.mark.skipif(not IS_ROOT, reason="needs root (the suite runs as root in CI)")


def wait_until(predicate: object, what: str, timeout: float = 60.0) -> None:
    """Poll ``predicate()`` until true (a bounded wait, not a timing assertion)."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def postmaster_gone(pid: int) -> bool:
    return not embedded._pid_alive(pid)


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A temporary directory the unprivileged server user can enter (pytest's is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="zkeb-embedded-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_throwaway_cluster_serves_and_leaves_nothing() -> None:
    with EmbeddedPostgres(max_connections=150) as pg:
        base, pid, port = pg.base_dir, pg.pid, pg.port
        assert base is not None and pid is not None and port is not None
        assert base.name.startswith(embedded.THROWAWAY_PREFIX)
        with psycopg.connect(pg.uri) as conn:
            row = conn.execute(
                "SELECT current_user, current_setting('max_connections'), "
                "current_setting('fsync'), current_setting('listen_addresses'), "
                "current_setting('port'), current_setting('data_directory'), "
                "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
            ).fetchone()
            hba = conn.execute(
                "SELECT type, address, auth_method FROM pg_hba_file_rules ORDER BY line_number"
            ).fetchall()
        assert row == ("postgres", "150", "off", "127.0.0.1", str(port),
                       str(pg.data_dir), True)
        # trust, and for local connections only
        assert hba == [("local", None, "trust"), ("host", "127.0.0.1", "trust"),
                       ("host", "::1", "trust")]
        with psycopg.connect(pg.socket_dsn) as conn:
            assert conn.execute("SELECT inet_server_addr()").fetchone() == (None,)  # unix socket
        owner = pwd.getpwuid(pg.data_dir.stat().st_uid).pw_name
        assert owner == pg.run_user
        if IS_ROOT:
            assert owner != "root"
        assert (pg.data_dir.stat().st_mode & 0o777) == 0o700
    assert not base.exists()
    assert postmaster_gone(pid)
    assert not pg.running


def test_exception_in_block_stops_and_removes() -> None:
    with pytest.raises(RuntimeError, match="boom"), EmbeddedPostgres() as pg:
        base, pid = pg.base_dir, pg.pid
        raise RuntimeError("boom")
    assert base is not None and pid is not None
    assert not base.exists()
    assert postmaster_gone(pid)


def test_crash_and_restart_inside_block_keeps_committed_rows() -> None:
    with EmbeddedPostgres() as pg:
        with psycopg.connect(pg.uri, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (42)")
        old_pid = pg.pid
        assert old_pid is not None
        pg.stop("immediate")
        assert postmaster_gone(old_pid) and not pg.running
        pg.start()
        with psycopg.connect(pg.uri) as conn:
            assert conn.execute("SELECT x FROM t").fetchall() == [(42,)]
        assert "database system was interrupted" in pg.read_log()


def test_keep_reuses_the_data_and_is_exclusive(open_tmp: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    home = open_tmp / "zkeb-home"
    monkeypatch.setenv("ZKEB_DB_HOME", str(home))
    assert embedded.default_keep_dir() == home
    with EmbeddedPostgres(keep=True) as pg:
        assert pg.base_dir == home
        with psycopg.connect(pg.uri, autocommit=True) as conn:
            assert conn.execute("SHOW fsync").fetchone() == ("on",)  # kept data is durable
            conn.execute("CREATE TABLE kept (note text)")
            conn.execute("INSERT INTO kept VALUES ('still here')")
        with pytest.raises(EmbeddedError, match="in use by another process"):
            EmbeddedPostgres(keep=True).__enter__()
        first_pid = pg.pid
    assert first_pid is not None and postmaster_gone(first_pid)
    assert (home / "data" / "PG_VERSION").is_file()
    with EmbeddedPostgres(keep=True) as pg, psycopg.connect(pg.uri) as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("still here",)]
    assert (home / "data" / "PG_VERSION").is_file()


def test_default_keep_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZKEB_DB_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", "/somewhere/data")
    expected = (embedded.ROOT_KEEP_DIR if IS_ROOT
                else Path("/somewhere/data/zkeb-db/embedded"))
    assert embedded.default_keep_dir() == expected


@root_only
def test_unreachable_keep_dir_names_the_blocking_directory(open_tmp: Path) -> None:
    closed = open_tmp / "closed"
    closed.mkdir(mode=0o700)
    with pytest.raises(EmbeddedError) as info:
        EmbeddedPostgres(keep_dir=closed / "inner").__enter__()
    message = str(info.value)
    assert f"cannot enter {closed}" in message and "ZKEB_DB_HOME" in message
    assert not (closed / "inner").exists()


def test_failed_start_shows_the_log_and_cleans_up() -> None:
    before = set(Path(tempfile.gettempdir()).glob(embedded.THROWAWAY_PREFIX + "*"))
    server = EmbeddedPostgres(settings={"shared_buffers": "plenty"})
    with pytest.raises(EmbeddedError) as info:
        server.__enter__()
    message = str(info.value)
    assert "exited with code" in message
    assert 'invalid value for parameter "shared_buffers"' in message  # from the server log
    assert server.base_dir is not None and not server.base_dir.exists()
    after = set(Path(tempfile.gettempdir()).glob(embedded.THROWAWAY_PREFIX + "*"))
    assert after - before == set()


def test_missing_binaries_is_a_clear_error(open_tmp: Path) -> None:
    with pytest.raises(EmbeddedError, match="does not hold the PostgreSQL server binaries"):
        EmbeddedPostgres(bindir=open_tmp).__enter__()


def test_find_install_reports_a_real_server() -> None:
    install = embedded.find_install()
    assert (install.bindir / "postgres").is_file()
    assert install.major >= 12
    out = subprocess.run([str(install.exe("postgres")), "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert install.version in out


_OWNER_SCRIPT = """
import sys, time
from zkeb_db.embedded import EmbeddedPostgres
with EmbeddedPostgres() as pg:
    print(pg.base_dir, pg.pid, flush=True)
    time.sleep(600)
"""


def _start_owner() -> tuple[subprocess.Popen[str], Path, int]:
    proc = subprocess.Popen([sys.executable, "-c", _OWNER_SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    assert len(line) == 2, proc.stderr.read() if proc.stderr else ""
    return proc, Path(line[0]), int(line[1])


def test_sigterm_stops_the_server_and_removes_it() -> None:
    proc, base, pid = _start_owner()
    try:
        assert base.is_dir() and not postmaster_gone(pid)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0
    assert "KeyboardInterrupt: signal SIGTERM" in err
    assert not base.exists()
    assert postmaster_gone(pid)


def test_killed_owner_stops_the_server_and_the_next_start_sweeps() -> None:
    proc, base, pid = _start_owner()
    proc.kill()
    proc.communicate(timeout=60)
    wait_until(lambda: postmaster_gone(pid), "the postmaster to follow its dead parent")
    assert base.is_dir()  # nobody removed it yet
    with EmbeddedPostgres():  # a new start sweeps stale throwaway clusters
        assert not base.exists()


@root_only
def test_dedicated_system_user() -> None:
    with EmbeddedPostgres(run_as=embedded.DEDICATED_USER) as pg:
        assert pg.run_user == embedded.DEDICATED_USER
        assert pwd.getpwuid(pg.data_dir.stat().st_uid).pw_name == embedded.DEDICATED_USER
        with psycopg.connect(pg.uri) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_pgserver_bundled_postgresql() -> None:
    bindir = embedded.pgserver_bindir()
    if bindir is None:
        pytest.skip("the pgserver wheel is not installed on this platform")
    with EmbeddedPostgres(bindir=bindir) as pg, psycopg.connect(pg.uri) as conn:
        assert pg.install is not None and pg.install.major == 16
        assert conn.info.server_version >= 160000
        assert conn.execute("SELECT 1 + 1").fetchone() == (2,)


_NON_ROOT_SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys
    sys.path.insert(0, sys.argv[1])
    import embedded  # this very module, copied: it needs only the standard library
    out = {}
    with embedded.EmbeddedPostgres() as pg:
        out["user"] = pg.run_user
        out["owner_uid"] = pg.data_dir.stat().st_uid
        out["base"] = str(pg.base_dir)
        out["psql"] = subprocess.run(
            [str(pg.install.bindir / "psql") if (pg.install.bindir / "psql").exists() else "psql",
             pg.uri, "-Atc", "SELECT current_user || ' ' || current_setting('fsync')"],
            capture_output=True, text=True, check=True).stdout.strip()
    out["base_exists_after"] = os.path.exists(out["base"])
    with embedded.EmbeddedPostgres(keep=True) as pg:
        out["keep_dir"] = str(pg.base_dir)
    print(json.dumps(out))
    """
)


@root_only
def test_runs_as_a_normal_user(open_tmp: Path) -> None:
    user = f"zkeb-t{os.getpid()}"
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", user], check=True,
                   capture_output=True)
    try:
        entry = pwd.getpwnam(user)
        shutil.copy(embedded.__file__, open_tmp / "embedded.py")
        (open_tmp / "embedded.py").chmod(0o644)
        python = next(
            (p for p in (sys.executable, "/usr/bin/python3") if Path(p).exists()
             and subprocess.run(["runuser", "-u", user, "--", p, "-c", "pass"],
                                capture_output=True).returncode == 0),
            None,
        )
        if python is None:
            pytest.skip(f"no Python that user {user} can run")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": entry.pw_dir}
        proc = subprocess.run(
            ["runuser", "-u", user, "--", python, "-c", _NON_ROOT_SCRIPT, str(open_tmp)],
            capture_output=True, text=True, env=env, cwd=open_tmp, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        assert out["user"] == user
        assert out["owner_uid"] == entry.pw_uid
        assert out["psql"] == "postgres off"
        assert out["base_exists_after"] is False
        assert out["keep_dir"] == f"{entry.pw_dir}/.local/share/zkeb-db/embedded"
        assert Path(out["keep_dir"], "data", "PG_VERSION").is_file()
    finally:
        subprocess.run(["userdel", "--remove", user], capture_output=True)


# --------------------------------------------------------------------------
# The --db option (zkeb_db.dbopts), whose last resort is the embedded server
# --------------------------------------------------------------------------

_DB_ENV = ("ZKEB_DB_URI", *dbopts.LIBPQ_SERVER_VARS)


def _parse(embedded_ok: bool, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    dbopts.add_db_argument(parser, embedded_ok=embedded_ok)
    parser.add_argument("--chdir")
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5433/d", "postgresql://u@h:5433/d"),
        ("postgres://u@h/d", "postgres://u@h/d"),
        ("host=h port=5433 dbname=d", "host=h port=5433 dbname=d"),
        ("db:pg://u@h:5433/d", "postgresql://u@h:5433/d"),
        ("db:pg:d", "postgresql:///d"),
        ("db:pg:", ""),
        ("d", "dbname=d"),
    ],
)
def test_db_option_forms(given: str, expected: str) -> None:
    assert dbopts.normalize_dsn(given) == expected


def test_db_option_rejects_garbage() -> None:
    with pytest.raises(CommandError, match="cannot parse the database URI"):
        dbopts.normalize_dsn("host=h dbname")
    with pytest.raises(CommandError, match="not a PostgreSQL target"):
        dbopts.normalize_dsn("db:mysql://h/d")


def test_db_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _DB_ENV:
        monkeypatch.delenv(var, raising=False)
    assert dbopts.resolve_dsn(_parse(True)) is None
    monkeypatch.setenv("PGPORT", "5499")
    monkeypatch.setenv("PGUSER", "someone")
    assert dbopts.resolve_dsn(_parse(True)) == ("port=5499 user=someone", "PG* variables")
    monkeypatch.setenv("ZKEB_DB_URI", "db:pg://a@b/c")
    assert dbopts.resolve_dsn(_parse(True)) == ("postgresql://a@b/c", "ZKEB_DB_URI")
    assert dbopts.resolve_dsn(_parse(True, "--db", "x")) == ("dbname=x", "--db")


def test_no_database_and_no_embedded_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _DB_ENV:
        monkeypatch.delenv(var, raising=False)
    args = _parse(False)
    assert not hasattr(args, "keep")
    with pytest.raises(CommandError, match="no database given"), dbopts.open_database(args):
        pass


_TINY_PLAN = """\
%syntax-version=1.0.0
%project=zkeb_dbopts

widgets 2026-01-01T00:00:00Z Tester <tester@example.invalid> # A table.
"""


def test_open_database_starts_deploys_and_removes_a_private_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in _DB_ENV:
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    (tmp_path / "sqitch.plan").write_text(_TINY_PLAN)
    for kind, body in (("deploy", "CREATE TABLE widgets (id int PRIMARY KEY);"),
                       ("revert", "DROP TABLE widgets;"), ("verify", "SELECT 1;")):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "widgets.sql").write_text(body + "\n")
    args = _parse(True, "--chdir", str(tmp_path))
    assert dbopts.project_dir(args) == tmp_path.resolve()
    with dbopts.open_database(args, deploy=True, max_connections=120) as dsn, \
            psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass('widgets') IS NOT NULL, "
                            "current_setting('max_connections')").fetchone() == (True, "120")
        assert conn.execute("SELECT count(*) FROM sqitch.changes").fetchone() == (1,)
        port = conn.info.port
    assert "started a private PostgreSQL" in capsys.readouterr().err
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres",
                        connect_timeout=5).close()


def test_project_dir_defaults_to_the_repository(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no sqitch.plan here
    assert dbopts.project_dir(_parse(True)) == Path(__file__).resolve().parent.parent
    with pytest.raises(CommandError, match=r"no sqitch\.plan"):
        dbopts.project_dir(_parse(True, "--chdir", str(tmp_path)))
