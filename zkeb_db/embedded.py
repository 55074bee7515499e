"""A private PostgreSQL cluster for one run (the "embedded" server).

``EmbeddedPostgres`` starts a cluster of its own, hands out a superuser
connection string, and stops and removes it afterwards::

    with EmbeddedPostgres(max_connections=200) as pg:
        psycopg.connect(pg.uri)          # postgresql://postgres@127.0.0.1:PORT/postgres

Which PostgreSQL
    The server binaries are looked up in this order: ``$ZKEB_PG_BINDIR``;
    ``pg_config --bindir``; the newest ``/usr/lib/postgresql/<major>/bin``
    (Debian/Ubuntu); ``initdb`` on ``PATH``; and last the PostgreSQL 16 that
    the PyPI package ``pgserver`` ships inside its wheel.  We evaluated
    ``pgserver`` and chose to use *only its binaries*: its own server manager
    makes every parent directory of the data and of site-packages
    world-readable when run as root (``chmod g+rx,o+rx`` up to ``/``), keeps
    one shared server per data directory alive across processes, and cannot
    set ``max_connections`` or ``fsync`` per run.  The bundled binaries are
    relocatable and run fine under this module, which does the root handling
    itself (below).  When they sit where the unprivileged server user cannot
    reach them (``/root/...``), they are copied once to
    ``/var/cache/zkeb-db/`` instead of loosening permissions on ``/root``.

Root
    ``initdb`` and ``postgres`` refuse to run as root.  As root, the cluster
    runs as the system user ``postgres`` when it exists, else as a dedicated
    system user ``zkeb-db`` created with ``useradd --system``.  The data
    directory is owned by that user and every parent directory must be
    searchable by it (a clear error names the one that is not).  As a normal
    user the cluster simply runs as that user.

Network and authentication
    The server listens on 127.0.0.1 at a free port and on a unix socket in
    its own directory (mode 0700).  ``pg_hba.conf`` allows ``trust`` for the
    unix socket and loopback only; there is no other entry.  Any local OS
    user can therefore connect over loopback as the superuser for the
    lifetime of the cluster: this is a development/test server.

Throwaway and kept clusters
    By default the cluster lives in ``$TMPDIR/zkeb-db-pg-*`` with
    ``fsync=off`` and ``full_page_writes=off`` (fast; it survives a crash of
    the server process, ``stop("immediate")``, but not of the machine), and
    is stopped and removed when the ``with``
    block ends, on an exception, on SIGTERM/SIGHUP (turned into
    ``KeyboardInterrupt`` while the block runs in the main thread), and when
    the owning process dies (the postmaster gets ``PR_SET_PDEATHSIG``).
    Directories left behind by a killed owner are removed by the next start.

    With ``keep=True`` the data survives in the *keep directory* and is reused
    next time: ``$ZKEB_DB_HOME`` when set, else
    ``$XDG_DATA_HOME/zkeb-db/embedded`` (``~/.local/share/zkeb-db/embedded``),
    and for root, whose home the server user cannot enter,
    ``/var/lib/zkeb-db/embedded``.  A kept cluster keeps ``fsync`` on, is used
    by one process at a time (a lock file; a second user gets a clear error)
    and is still stopped at the end of the block.

This module uses only the standard library so that it can run (and be tested)
with any Python, as any user.  Linux only (``prctl``, ``/proc``).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import hashlib
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, Literal
from urllib.parse import quote

__all__ = [
    "DEDICATED_USER",
    "SUPERUSER",
    "EmbeddedError",
    "EmbeddedPostgres",
    "PgInstall",
    "default_keep_dir",
    "find_install",
]

SUPERUSER = "postgres"
"""The superuser name inside every embedded cluster (``initdb -U postgres``)."""

DEDICATED_USER = "zkeb-db"
"""The system user created (as root) when there is no ``postgres`` user."""

THROWAWAY_PREFIX = "zkeb-db-pg-"
CACHE_ROOT = Path("/var/cache/zkeb-db")
ROOT_KEEP_DIR = Path("/var/lib/zkeb-db/embedded")

_LOCK_NAME = ".lock"
_SOCKET_PATH_MAX = 100  # sockaddr_un.sun_path is 108 bytes; leave room
_PG_STATUS_READY = "ready"
_PR_SET_PDEATHSIG = 1

StopMode = Literal["smart", "fast", "immediate"]
_STOP_SIGNALS: dict[str, signal.Signals] = {
    "smart": signal.SIGTERM,
    "fast": signal.SIGINT,
    "immediate": signal.SIGQUIT,
}

# Settings for a throwaway cluster: speed over crash safety.
# synchronous_commit stays on: with it, a transaction acknowledged before an
# immediate shutdown (a simulated crash) survives the restart.
_THROWAWAY_SETTINGS = {
    "fsync": "off",
    "full_page_writes": "off",
}

_HBA = """\
# Written by zkeb_db.embedded at every start: trust, local connections only.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
host    all       all   ::1/128        trust
"""


class EmbeddedError(RuntimeError):
    """The embedded server could not be found, started or stopped.

    The message says what failed and, where there is one, ends with the tail
    of the server's log or the command's output.
    """


# --------------------------------------------------------------------------
# Finding the binaries
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PgInstall:
    """A PostgreSQL server installation: where its binaries are and what it is."""

    bindir: Path
    source: str  # how it was found: "ZKEB_PG_BINDIR", "pg_config", "debian", "PATH", "pgserver"
    version: str  # e.g. "15.20"

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def exe(self, name: str) -> Path:
        return self.bindir / name


def _is_bindir(path: Path) -> bool:
    return all(
        (path / name).is_file() and os.access(path / name, os.X_OK)
        for name in ("initdb", "postgres")
    )


def _server_version(bindir: Path) -> str:
    try:
        out = subprocess.run(
            [str(bindir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise EmbeddedError(f"cannot run {bindir / 'postgres'} --version: {exc}") from exc
    match = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)?)", out)
    if not match:
        raise EmbeddedError(f"unexpected output of {bindir / 'postgres'} --version: {out!r}")
    return match.group(1)


def pgserver_bindir() -> Path | None:
    """The binaries bundled in the ``pgserver`` wheel, if it is installed.

    The package is located, not imported: importing it has side effects
    (lock files in the user's runtime directory).
    """
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        bindir = Path(location) / "pginstall" / "bin"
        if _is_bindir(bindir):
            return bindir
    return None


def _candidates() -> Iterator[tuple[Path, str]]:
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
            if out:
                yield Path(out), "pg_config"
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        majors = sorted(
            (int(p.name) for p in debian.iterdir() if p.name.isdigit()), reverse=True
        )
        for major in majors:
            yield debian / str(major) / "bin", "debian"
    initdb = shutil.which("initdb")
    if initdb:
        yield Path(os.path.realpath(initdb)).parent, "PATH"
    bundled = pgserver_bindir()
    if bundled is not None:
        yield bundled, "pgserver"


def find_install(bindir: str | os.PathLike[str] | None = None) -> PgInstall:
    """Find the PostgreSQL server binaries (see the module docstring for the order).

    An explicit ``bindir`` (or ``$ZKEB_PG_BINDIR``) must hold ``initdb`` and
    ``postgres``; otherwise this raises instead of looking further.
    """
    explicit = str(bindir) if bindir is not None else os.environ.get("ZKEB_PG_BINDIR")
    if explicit:
        path = Path(explicit)
        if not _is_bindir(path):
            raise EmbeddedError(
                f"{path} does not hold the PostgreSQL server binaries initdb and postgres"
                + (" (from $ZKEB_PG_BINDIR)" if bindir is None else "")
            )
        return PgInstall(path, "ZKEB_PG_BINDIR" if bindir is None else "argument",
                         _server_version(path))
    for path, source in _candidates():
        if _is_bindir(path):
            return PgInstall(path, source, _server_version(path))
    raise EmbeddedError(
        "no PostgreSQL server binaries found (looked at $ZKEB_PG_BINDIR, pg_config --bindir, "
        "/usr/lib/postgresql/*/bin, initdb on PATH and the pgserver package): install "
        "PostgreSQL (e.g. apt-get install postgresql) or `pip install pgserver`, "
        "or give a server with --db / ZKEB_DB_URI"
    )


# --------------------------------------------------------------------------
# Users and permissions
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _RunUser:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    switch: bool  # True when we are root and must drop to this user for initdb/postgres


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    cmd = [useradd, "--system", "--user-group", "--no-create-home",
           "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise EmbeddedError(f"cannot create system user {name!r} with useradd: {exc}") from exc
    if proc.returncode != 0:
        try:
            pwd.getpwnam(name)  # created concurrently by someone else: fine
            return
        except KeyError:
            pass
        raise EmbeddedError(
            f"cannot create system user {name!r}: {' '.join(cmd)} exited {proc.returncode}: "
            f"{proc.stderr.strip()}"
        )


def _resolve_run_user(run_as: str | None) -> _RunUser:
    euid = os.geteuid()
    if euid != 0:
        me = pwd.getpwuid(euid)
        if run_as is not None and run_as != me.pw_name:
            raise EmbeddedError(f"run_as={run_as!r} needs root (running as {me.pw_name!r})")
        return _RunUser(me.pw_name, euid, os.getegid(), tuple(os.getgroups()), switch=False)
    if run_as is None:
        try:
            pwd.getpwnam("postgres")
            run_as = "postgres"
        except KeyError:
            run_as = DEDICATED_USER
    if run_as == DEDICATED_USER:
        _ensure_system_user(DEDICATED_USER)
    try:
        entry = pwd.getpwnam(run_as)
    except KeyError:
        raise EmbeddedError(f"no such user {run_as!r} to run PostgreSQL as") from None
    if entry.pw_uid == 0:
        raise EmbeddedError(
            f"cannot run PostgreSQL as {run_as!r}: it is uid 0, which initdb refuses"
        )
    groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return _RunUser(entry.pw_name, entry.pw_uid, entry.pw_gid, groups, switch=True)


def _may(st: os.stat_result, user: _RunUser, bits: int) -> bool:
    """Whether ``user`` has all of ``bits`` (a combination of 4=r, 2=w, 1=x) on a file."""
    if user.uid == 0:
        return True
    if st.st_uid == user.uid:
        mode = (st.st_mode >> 6) & 7
    elif st.st_gid in user.groups:
        mode = (st.st_mode >> 3) & 7
    else:
        mode = st.st_mode & 7
    return mode & bits == bits


def _blocking_dir(path: Path, user: _RunUser) -> Path | None:
    """The first directory on the way to ``path`` (inclusive) that ``user`` cannot enter."""
    target = Path(os.path.realpath(path))
    for directory in [*reversed(target.parents), target]:
        try:
            st = directory.stat()
        except FileNotFoundError:
            return None  # the rest will be created by us
        if stat.S_ISDIR(st.st_mode) and not _may(st, user, 1):
            return directory
    return None


def _check_reachable(path: Path, user: _RunUser, what: str) -> None:
    blocked = _blocking_dir(path, user)
    if blocked is not None:
        raise EmbeddedError(
            f"the PostgreSQL server runs as user {user.name!r}, which cannot enter {blocked} "
            f"(mode {stat.filemode(blocked.stat().st_mode)}) on the way to the {what} {path}; "
            f"choose a directory outside it"
            + (" (set ZKEB_DB_HOME)" if what == "keep directory" else " (set TMPDIR)"
               if what == "temporary directory" else "")
        )


def _chown(path: Path, user: _RunUser) -> None:
    if user.switch:
        os.chown(path, user.uid, user.gid)


def _reachable_install(install: PgInstall, user: _RunUser) -> PgInstall:
    """Make sure ``user`` can execute the binaries; copy a self-contained bundle if needed.

    The pgserver wheel lays out ``<site>/pgserver/pginstall/{bin,lib,share}``
    and its binaries find their shared libraries through the RPATH
    ``$ORIGIN/../../../pgserver.libs``; the copy keeps that layout.
    """
    if not user.switch or _blocking_dir(install.bindir, user) is None:
        return install
    prefix = install.bindir.parent
    parts = [prefix / name for name in ("bin", "lib", "share")]
    if not all(p.is_dir() for p in parts):
        raise EmbeddedError(
            f"user {user.name!r} cannot reach the PostgreSQL binaries in {install.bindir} "
            f"({_blocking_dir(install.bindir, user)} is not searchable) and the installation "
            f"is not a relocatable bundle; point ZKEB_PG_BINDIR at a reachable one"
        )
    package = prefix.parent  # .../site-packages/pgserver
    site = package.parent
    libs = site / f"{package.name}.libs"
    digest = hashlib.sha256(f"{prefix}:{install.version}".encode()).hexdigest()[:12]
    target = CACHE_ROOT / f"postgresql-{install.version}-{digest}"
    target_bindir = target / package.name / prefix.name / "bin"
    if not _is_bindir(target_bindir):
        CACHE_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.chmod(CACHE_ROOT, 0o755)
        staging = Path(tempfile.mkdtemp(prefix=".copy-", dir=CACHE_ROOT))
        try:
            for part in parts:
                shutil.copytree(part, staging / package.name / prefix.name / part.name,
                                symlinks=True)
            if libs.is_dir():
                shutil.copytree(libs, staging / libs.name, symlinks=True)
            for directory in [staging, *staging.rglob("*")]:
                if directory.is_dir() and not directory.is_symlink():
                    os.chmod(directory, 0o755)
            try:
                os.rename(staging, target)
            except OSError:
                if not _is_bindir(target_bindir):  # lost a race to an identical copy: fine
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    _check_reachable(target_bindir, user, "PostgreSQL binaries")
    return PgInstall(target_bindir, install.source, install.version)


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _postmaster_of(data_dir: Path) -> int | None:
    """The pid of a live postmaster serving ``data_dir``, from its ``postmaster.pid``.

    The pid must belong to a running process whose command line names the
    data directory, so a stale file whose pid was reused never gets an
    unrelated process signalled.
    """
    info = _read_postmaster_pid(data_dir)
    if not info or not info[0].strip().isdigit():
        return None
    pid = int(info[0])
    if not _pid_alive(pid):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if os.fsencode(str(data_dir)) not in cmdline:
        return None
    return pid


def _read_postmaster_pid(data_dir: Path) -> list[str] | None:
    try:
        return (data_dir / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_libc: Any = None


def _set_pdeathsig() -> None:
    """Runs in the forked child before exec: stop the postmaster when its parent dies."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGINT), 0, 0, 0)


def _load_libc() -> None:
    global _libc
    if _libc is None:
        with contextlib.suppress(OSError):
            _libc = ctypes.CDLL(None, use_errno=True)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    kept = text.splitlines()[-lines:]
    return "\n".join(kept) if kept else "(log is empty)"


def _try_lock(path: Path) -> IO[bytes] | None:
    """An exclusive non-blocking flock on ``path``, or None when someone else holds it."""
    handle = open(path, "a+b")  # noqa: SIM115 - kept open for the lifetime of the lock
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def default_keep_dir() -> Path:
    """Where ``keep=True`` stores the cluster (see the module docstring)."""
    home = os.environ.get("ZKEB_DB_HOME")
    if home:
        return Path(home).expanduser()
    if os.geteuid() == 0:
        return ROOT_KEEP_DIR
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "zkeb-db" / "embedded"


def sweep_stale(tmpdir: Path | None = None) -> list[Path]:
    """Remove throwaway clusters whose owning process died; return what was removed.

    A directory counts as stale only when nobody holds its lock file and its
    postmaster (if any) is gone; a still-running orphaned postmaster is sent
    an immediate-shutdown signal and left for the next sweep.
    """
    base = tmpdir or Path(tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(THROWAWAY_PREFIX) or not entry.is_dir():
            continue
        lock_path = entry / _LOCK_NAME
        try:
            if not lock_path.is_file():
                continue  # being set up right now, or not ours
            lock = _try_lock(lock_path)
        except OSError:
            continue  # another user's directory
        if lock is None:
            continue  # its owner is alive
        try:
            orphan = _postmaster_of(entry / "data")
            if orphan is not None:
                with contextlib.suppress(OSError):
                    os.kill(orphan, signal.SIGQUIT)
                continue
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                removed.append(entry)
        finally:
            lock.close()
    return removed


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


_signal_owner: EmbeddedPostgres | None = None


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


class EmbeddedPostgres:
    """A private PostgreSQL cluster: ``with EmbeddedPostgres() as pg: ... pg.uri``.

    Parameters:
        keep: keep the data in :func:`default_keep_dir` (or ``keep_dir``) and
            reuse it next time; otherwise a throwaway cluster in ``$TMPDIR``.
        keep_dir: an explicit keep directory (implies ``keep=True``).
        max_connections: the server's ``max_connections`` (default 100).
        settings: more ``postgresql.conf`` settings, passed as ``-c name=value``.
        bindir: the binaries to use (default: :func:`find_install`).
        run_as: as root, the OS user to run the server as (default ``postgres``
            if it exists, else the dedicated ``zkeb-db`` system user).
        start_timeout, stop_timeout, initdb_timeout: seconds.

    ``__enter__`` starts the server and returns the object itself; ``uri`` /
    ``dsn`` is the superuser URI over loopback TCP, ``socket_dsn`` the same
    over the unix socket.  ``stop()`` and ``start()`` may be called inside the
    block (e.g. ``stop("immediate")`` to simulate a crash); ``close()`` /
    leaving the block stops the server and, unless kept, removes everything.
    """

    def __init__(
        self,
        *,
        keep: bool = False,
        keep_dir: str | os.PathLike[str] | None = None,
        max_connections: int = 100,
        settings: Mapping[str, str | int] | None = None,
        bindir: str | os.PathLike[str] | None = None,
        run_as: str | None = None,
        start_timeout: float = 60.0,
        stop_timeout: float = 60.0,
        initdb_timeout: float = 300.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be positive")
        self.keep = keep or keep_dir is not None
        self._keep_dir = Path(keep_dir) if keep_dir is not None else None
        self.max_connections = max_connections
        self.settings = {k: str(v) for k, v in (settings or {}).items()}
        self._bindir_arg = bindir
        self._run_as = run_as
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.initdb_timeout = initdb_timeout

        self.install: PgInstall | None = None
        self.base_dir: Path | None = None
        self.port: int | None = None
        self._user: _RunUser | None = None
        self._lock: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None
        self._own_socket_dir: Path | None = None
        self._prev_handlers: dict[int, Any] = {}
        self._atexit_registered = False
        self._closed = False

    # -- paths and connection strings -------------------------------------

    def _need_base(self) -> Path:
        if self.base_dir is None:
            raise EmbeddedError("the embedded server has not been started")
        return self.base_dir

    @property
    def data_dir(self) -> Path:
        return self._need_base() / "data"

    @property
    def log_path(self) -> Path:
        return self._need_base() / "postgresql.log"

    @property
    def socket_dir(self) -> Path:
        if self._own_socket_dir is not None:
            return self._own_socket_dir
        return self._need_base() / "run"

    @property
    def run_user(self) -> str:
        if self._user is None:
            raise EmbeddedError("the embedded server has not been started")
        return self._user.name

    @property
    def pid(self) -> int | None:
        """The postmaster's pid while it runs."""
        if self._proc is not None and self._proc.poll() is None:
            return self._proc.pid
        return None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def uri_for(self, dbname: str = "postgres", user: str = SUPERUSER) -> str:
        """A ``postgresql://`` URI for ``dbname`` as ``user`` over loopback TCP."""
        if self.port is None:
            raise EmbeddedError("the embedded server has not been started")
        return f"postgresql://{quote(user, safe='')}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"

    @property
    def uri(self) -> str:
        """Superuser URI of the ``postgres`` database over loopback TCP."""
        return self.uri_for()

    @property
    def dsn(self) -> str:
        return self.uri

    @property
    def socket_dsn(self) -> str:
        """Superuser libpq conninfo over the unix socket."""
        if self.port is None:
            raise EmbeddedError("the embedded server has not been started")
        return f"host={self.socket_dir} port={self.port} user={SUPERUSER} dbname=postgres"

    def read_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- context manager ----------------------------------------------------

    def __enter__(self) -> EmbeddedPostgres:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Start the server (set up the cluster first if needed)."""
        if self._closed:
            raise EmbeddedError("this EmbeddedPostgres was closed; make a new one")
        if self.running:
            return
        if self.base_dir is None:
            self._prepare()
        assert self.install is not None and self._user is not None and self.base_dir is not None
        self._install_handlers()
        if not self._atexit_registered:
            atexit.register(self.close)
            self._atexit_registered = True
        last: EmbeddedError | None = None
        for attempt in range(5):
            port = self.port if attempt == 0 and self.port and _port_free(self.port) else None
            try:
                self._spawn(port or _free_port())
                return
            except _PortTaken as exc:
                last = exc
        raise EmbeddedError(f"could not find a free port for PostgreSQL: {last}")

    def stop(self, mode: StopMode = "fast") -> None:
        """Stop the server (``smart``/``fast``/``immediate`` as ``pg_ctl stop -m``).

        Escalates to an immediate shutdown, then SIGKILL, when the server does
        not stop within ``stop_timeout``.  The data stays until ``close()``.
        """
        proc = self._proc
        if proc is not None:
            try:
                if proc.poll() is None:
                    self._signal_and_wait(proc, mode)
            finally:
                self._proc = None
                if self._log_handle is not None:
                    self._log_handle.close()
                    self._log_handle = None

    def restart(self, mode: StopMode = "fast") -> None:
        self.stop(mode)
        self.start()

    def close(self) -> None:
        """Stop the server and, unless kept, remove the cluster.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self.stop()
        finally:
            try:
                self._cleanup_dirs()
            finally:
                self._restore_handlers()
                if self._atexit_registered:
                    atexit.unregister(self.close)
                    self._atexit_registered = False
                if self._lock is not None:
                    self._lock.close()
                    self._lock = None

    # -- internals -----------------------------------------------------------

    def _prepare(self) -> None:
        install = find_install(self._bindir_arg)
        user = _resolve_run_user(self._run_as)
        self._user = user
        if self.keep:
            base = Path(os.path.abspath(self._keep_dir or default_keep_dir()))
            _check_reachable(base, user, "keep directory")
            base.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock = _try_lock(base / _LOCK_NAME)
            if lock is None:
                raise EmbeddedError(
                    f"the kept cluster in {base} is in use by another process; wait for it, "
                    f"or set ZKEB_DB_HOME to another directory"
                )
            self._lock = lock
            self.base_dir = base
            _chown(base, user)
            os.chmod(base, 0o700)
            self._stop_orphan(base / "data")
        else:
            tmp = Path(tempfile.gettempdir())
            _check_reachable(tmp, user, "temporary directory")
            sweep_stale(tmp)
            base = Path(tempfile.mkdtemp(prefix=THROWAWAY_PREFIX, dir=tmp))
            self.base_dir = base
            # Lock before the name ".lock" exists, so a concurrent sweep never
            # sees an unlocked lock file in a live directory.
            staging = base / ".lock-staging"
            lock = _try_lock(staging)
            assert lock is not None
            os.rename(staging, base / _LOCK_NAME)
            self._lock = lock
            _chown(base, user)
        self.install = _reachable_install(install, user)
        run = base / "run"
        run.mkdir(mode=0o700, exist_ok=True)
        _chown(run, user)
        if len(str(run / ".s.PGSQL.65535")) > _SOCKET_PATH_MAX:
            own = Path(tempfile.mkdtemp(prefix="zkeb-db-sock-"))
            _chown(own, user)
            self._own_socket_dir = own
        data = base / "data"
        if (data / "PG_VERSION").is_file():
            found = (data / "PG_VERSION").read_text().strip()
            if found != str(self.install.major):
                raise EmbeddedError(
                    f"the kept cluster in {data} is PostgreSQL {found} but the binaries in "
                    f"{self.install.bindir} are {self.install.version}; remove {base} or point "
                    f"ZKEB_PG_BINDIR at PostgreSQL {found}"
                )
        else:
            self._initdb(data)
        (data / "pg_hba.conf").write_text(_HBA)
        _chown(data / "pg_hba.conf", self._user)

    def _child_kwargs(self) -> dict[str, Any]:
        assert self._user is not None and self.base_dir is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env.pop("LANG", None)
        kwargs: dict[str, Any] = {"env": env, "cwd": str(self.base_dir)}
        if self._user.switch:
            env["HOME"] = str(self.base_dir)
            env["USER"] = env["LOGNAME"] = self._user.name
            kwargs.update(user=self._user.uid, group=self._user.gid,
                          extra_groups=list(self._user.groups))
        return kwargs

    def _initdb(self, data: Path) -> None:
        assert self.install is not None and self._user is not None
        data.mkdir(mode=0o700, exist_ok=True)
        _chown(data, self._user)
        cmd = [
            str(self.install.exe("initdb")),
            "-D", str(data),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
        ]
        if self.install.major >= 14:
            cmd.append("--no-instructions")
        if not self.keep:
            cmd.append("--no-sync")
        try:
            proc = subprocess.run(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=self.initdb_timeout, **self._child_kwargs(),
            )
        except subprocess.TimeoutExpired as exc:
            out = (exc.output or b"").decode(errors="replace")
            raise EmbeddedError(
                f"initdb did not finish within {self.initdb_timeout:g}s:\n{out}"
            ) from None
        except OSError as exc:
            raise EmbeddedError(f"cannot run {cmd[0]} as {self._user.name}: {exc}") from exc
        if proc.returncode != 0:
            raise EmbeddedError(
                f"initdb failed (exit {proc.returncode}) as user {self._user.name}: "
                f"{' '.join(cmd)}\n{proc.stdout.decode(errors='replace').strip()}"
            )

    def _stop_orphan(self, data: Path) -> None:
        """A kept cluster whose owner died (we hold the lock now) may still run: stop it."""
        pid = _postmaster_of(data)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + self.stop_timeout
        while _pid_alive(pid):
            if time.monotonic() > deadline:
                raise EmbeddedError(
                    f"a PostgreSQL server (pid {pid}) left running on {data} by a previous run "
                    f"did not stop within {self.stop_timeout:g}s"
                )
            time.sleep(0.05)

    def _server_settings(self, port: int) -> dict[str, str]:
        settings = {
            "port": str(port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(self.socket_dir),
            "unix_socket_permissions": "0700",
            "max_connections": str(self.max_connections),
            "logging_collector": "off",
            "log_destination": "stderr",
        }
        if not self.keep:
            settings.update(_THROWAWAY_SETTINGS)
        settings.update(self.settings)
        return settings

    def _spawn(self, port: int) -> None:
        assert self.install is not None and self._user is not None
        cmd = [str(self.install.exe("postgres")), "-D", str(self.data_dir)]
        for name, value in self._server_settings(port).items():
            cmd += ["-c", f"{name}={value}"]
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed in stop()
        _load_libc()
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_set_pdeathsig,  # only prctl(); see _set_pdeathsig
                **self._child_kwargs(),
            )
        except OSError as exc:
            log.close()
            raise EmbeddedError(f"cannot start {cmd[0]} as {self._user.name}: {exc}") from exc
        self._proc, self._log_handle, self.port = proc, log, port
        deadline = time.monotonic() + self.start_timeout
        while True:
            rc = proc.poll()
            if rc is not None:
                self._proc = None
                log.close()
                self._log_handle = None
                new_log = self._log_since(log_start)
                if "could not bind" in new_log or "could not create any TCP/IP" in new_log:
                    raise _PortTaken(f"port {port}: {new_log.strip().splitlines()[-1:]}")
                raise EmbeddedError(
                    f"PostgreSQL {self.install.version} exited with code {rc} while starting "
                    f"(data {self.data_dir}, user {self._user.name}); its log "
                    f"({self.log_path}):\n{new_log.strip() or '(empty)'}"
                )
            info = _read_postmaster_pid(self.data_dir)
            if (
                info is not None
                and len(info) >= 8
                and info[0].strip() == str(proc.pid)
                and info[7].strip() == _PG_STATUS_READY
            ):
                return
            if time.monotonic() > deadline:
                self.stop("immediate")
                raise EmbeddedError(
                    f"PostgreSQL did not accept connections within {self.start_timeout:g}s "
                    f"(data {self.data_dir}); its log:\n{self._log_since(log_start).strip()}"
                )
            time.sleep(0.02)

    def _log_since(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                text = fh.read().decode(errors="replace")
        except OSError:
            return ""
        lines = text.splitlines()
        return "\n".join(lines[-60:])

    def _signal_and_wait(self, proc: subprocess.Popen[bytes], mode: StopMode) -> None:
        steps: list[tuple[signal.Signals, float]] = [(_STOP_SIGNALS[mode], self.stop_timeout)]
        if mode != "immediate":
            steps.append((signal.SIGQUIT, 10.0))
        steps.append((signal.SIGKILL, 10.0))
        for sig, timeout in steps:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout)
                return
            except subprocess.TimeoutExpired:
                continue
        raise EmbeddedError(f"PostgreSQL (pid {proc.pid}) did not exit even after SIGKILL")

    def _cleanup_dirs(self) -> None:
        own = self._own_socket_dir
        if own is not None:
            shutil.rmtree(own, ignore_errors=True)
            self._own_socket_dir = None
        base = self.base_dir
        if base is None or self.keep:
            return
        shutil.rmtree(base, ignore_errors=True)
        if base.exists():
            raise EmbeddedError(f"could not remove the throwaway cluster directory {base}")

    def _install_handlers(self) -> None:
        global _signal_owner
        if threading.current_thread() is not threading.main_thread() or _signal_owner is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is signal.SIG_DFL:
                self._prev_handlers[sig] = signal.signal(sig, _raise_interrupt)
        if self._prev_handlers:
            _signal_owner = self

    def _restore_handlers(self) -> None:
        global _signal_owner
        if _signal_owner is not self:
            return
        if threading.current_thread() is threading.main_thread():
            for sig, previous in self._prev_handlers.items():
                if signal.getsignal(sig) is _raise_interrupt:
                    signal.signal(sig, previous)
        self._prev_handlers.clear()
        _signal_owner = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EmbeddedPostgres {state} port={self.port} base={self.base_dir}>"


class _PortTaken(EmbeddedError):
    pass

