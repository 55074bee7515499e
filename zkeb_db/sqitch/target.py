"""Where to deploy: target resolution, connection parameters and script paths.

``--db`` accepts a ``postgresql://`` URI, a libpq conninfo string
(``host=... dbname=...``), a Sqitch ``db:pg:`` URI or the name of a target in
sqitch.conf. Without ``--db``: ``--target``, then ``ZKEB_DB_URI``, then
``SQITCH_TARGET``, then sqitch.conf (``core.target``, ``engine.pg.target``),
then ``db:pg:`` (libpq's ``PG*`` defaults).

The connection is handed to psql exactly as Sqitch builds it: ``--dbname``
``"user=U dbname=D host=H port=P k=v..."`` (only the parts given, the rest
sorted by name, blanks, quotes and backslashes escaped with a backslash) and
the password in ``PGPASSWORD``.
"""

from __future__ import annotations

import os
import pwd
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qsl, unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from zkeb_db.sqitch.config import Config
from zkeb_db.sqitch.errors import ConfigError

# URI::db engine aliases that mean PostgreSQL.
_PG_ENGINES = ("pg", "postgres", "postgresql", "pgsql", "pgxc", "postgresxc")
_FIRST_KEYS = ("user", "dbname", "host", "port")


@dataclass(frozen=True)
class ConnInfo:
    """libpq connection parameters (password kept apart, as Sqitch does)."""

    params: dict[str, str] = field(default_factory=dict)
    password: str | None = None

    def psql_dbname(self) -> str | None:
        """The ``--dbname`` argument Sqitch passes to psql, or None for libpq defaults."""
        specs = [(k, self.params.get(k)) for k in _FIRST_KEYS]
        specs += [(k, v) for k, v in sorted(self.params.items()) if k not in _FIRST_KEYS]
        parts = []
        for key, value in specs:
            if value is None or value == "":
                continue
            value = re.sub(r"""([ "'\\])""", r"\\\1", value)
            parts.append(f"{key}={value}")
        return " ".join(parts) or None

    def conninfo(self) -> str:
        """A conninfo string for psycopg (password included)."""
        params = dict(self.params)
        if self.password:
            params["password"] = self.password
        return make_conninfo("", **params)

    def display(self) -> str:
        """A ``db:pg:`` URI naming the database, without the password.

        Like Sqitch, a missing database name is shown as libpq would pick it:
        ``PGDATABASE``, else the user name.
        """
        p = self.params
        dbname = (
            p.get("dbname")
            or os.environ.get("PGDATABASE")
            or p.get("user")
            or os.environ.get("PGUSER")
            or system_user()
            or ""
        )
        if not any(p.get(k) for k in ("user", "host", "port")):
            return "db:pg:" + dbname
        auth = (p.get("user", "") + "@") if p.get("user") else ""
        host = p.get("host", "")
        port = f":{p['port']}" if p.get("port") else ""
        return f"db:pg://{auth}{host}{port}/{dbname}"


def parse_pg_uri(uri: str) -> ConnInfo:
    """Parse ``db:pg:...``, ``pg:...``, ``postgresql://...`` or a libpq conninfo string."""
    text = uri.strip()
    low = text.lower()
    try:
        m = re.match(r"^(?:db:)?([a-z][a-z0-9+.\-]*):(.*)$", text, re.S | re.I)
        if m and not re.match(r"^[a-z_]+\s*=", low):
            scheme, rest = m.group(1).lower(), m.group(2)
            if scheme not in _PG_ENGINES:
                raise ConfigError(
                    f"Unsupported target {redact(uri)}: only PostgreSQL (db:pg:) is supported"
                )
            if rest.startswith("//"):
                params = conninfo_to_dict("postgresql:" + rest)
            else:  # db:pg:DBNAME[?params]
                path, _, query = rest.partition("?")
                params = {"dbname": unquote(path)} if path else {}
                params.update(dict(parse_qsl(query, keep_blank_values=True)))
        elif "=" in text:
            params = conninfo_to_dict(text)
        else:
            raise ConfigError(f"Not a connection string: {redact(uri)}")
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"Invalid connection string {redact(uri)}: {exc}") from exc
    clean = {k: str(v) for k, v in params.items() if v is not None}
    password = clean.pop("password", None)
    return ConnInfo(params=clean, password=password or None)


def redact(text: str) -> str:
    """Hide a password in a URI or conninfo string before showing it."""
    text = re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", text)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text)


def looks_like_connection(text: str) -> bool:
    """True for a URI or conninfo string; False for a bare target name."""
    return ":" in text or "=" in text


@dataclass
class Target:
    """Everything Sqitch derives from a target: connection, registry, paths, variables."""

    name: str
    conn: ConnInfo
    registry: str
    client: str
    project_dir: Path
    top_dir: PurePosixPath
    plan_file: Path
    deploy_dir: PurePosixPath
    revert_dir: PurePosixPath
    verify_dir: PurePosixPath
    reworked_deploy_dir: PurePosixPath
    reworked_revert_dir: PurePosixPath
    reworked_verify_dir: PurePosixPath
    extension: str
    variables: dict[str, str]

    @property
    def destination(self) -> str:
        if not looks_like_connection(self.name):
            return self.name
        return self.conn.display()

    def script_dir(self, kind: str, reworked: bool) -> PurePosixPath:
        attr = f"reworked_{kind}_dir" if reworked else f"{kind}_dir"
        value = getattr(self, attr)
        assert isinstance(value, PurePosixPath)
        return value

    def script_path(self, kind: str, name: str, rework_tags: list[str]) -> PurePosixPath:
        """Relative path of a change's script, the way Sqitch picks it (``name@tag`` files)."""
        segments = name.split("/")
        ext = "." + self.extension
        if rework_tags:
            deploy_dir = self.script_dir("deploy", True)
            base = segments.pop()
            chosen: str | None = None
            for tag in rework_tags:
                candidate = f"{base}@{tag}{ext}"
                if chosen is None:
                    chosen = candidate
                if (self.project_dir / deploy_dir.joinpath(*segments, candidate)).exists():
                    chosen = candidate
                    break
            assert chosen is not None
            segments.append(chosen)
            return self.script_dir(kind, True).joinpath(*segments)
        segments[-1] += ext
        return self.script_dir(kind, False).joinpath(*segments)


def _clean(path: str) -> PurePosixPath:
    # Path::Class's cleanup: drop "." segments and duplicate slashes.
    p = PurePosixPath(path)
    parts = [part for part in p.parts if part != "."]
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def resolve_target(
    config: Config,
    project_dir: Path,
    *,
    db: str | None = None,
    target: str | None = None,
    registry: str | None = None,
    plan_file: str | None = None,
    client: str | None = None,
) -> Target:
    engine = (config.get("core.engine") or "pg").strip()
    if engine not in _PG_ENGINES:
        raise ConfigError(f'core.engine is "{engine}"; zkeb-db deploys PostgreSQL (pg) only')
    name = (
        db
        or target
        or os.environ.get("ZKEB_DB_URI")
        or os.environ.get("SQITCH_TARGET")
        or config.get("core.target")
        or config.get(f"engine.{engine}.target")
        or "db:pg:"
    )
    if looks_like_connection(name):
        uri = name
        name = redact(name)
    else:
        found = config.get(f"target.{name}.uri")
        if not found:
            if config.has_section(f"target.{name}"):
                raise ConfigError(f'No URI associated with target "{name}"')
            raise ConfigError(
                f'Cannot find target "{name}": not a URI, a conninfo string or a target in'
                " sqitch.conf"
            )
        uri = found
    conn = parse_pg_uri(uri)
    params = dict(conn.params)
    user = os.environ.get("SQITCH_USERNAME")
    if user:
        params["user"] = user
    password = os.environ.get("SQITCH_PASSWORD") or conn.password
    conn = ConnInfo(params=params, password=password)

    def fetch(key: str) -> str | None:
        return (
            config.get(f"target.{name}.{key}")
            or config.get(f"engine.{engine}.{key}")
            or config.get(f"core.{key}")
        )

    top_dir = _clean(fetch("top_dir") or ".")
    reworked_dir = _clean(fetch("reworked_dir") or str(top_dir))

    def script_dir(kind: str, base: PurePosixPath, prefix: str = "") -> PurePosixPath:
        given = fetch(f"{prefix}{kind}_dir")
        return _clean(given) if given else _clean(str(base / kind))

    plan_path = plan_file or fetch("plan_file") or str(top_dir / "sqitch.plan")
    plan = Path(plan_path)
    if not plan.is_absolute():
        plan = project_dir / plan
    variables = dict(config.get_section(f"engine.{engine}.variables"))
    variables.update(config.get_section(f"target.{name}.variables"))
    return Target(
        name=name,
        conn=conn,
        registry=registry or fetch("registry") or "sqitch",
        client=client or fetch("client") or "psql",
        project_dir=project_dir,
        top_dir=top_dir,
        plan_file=plan,
        deploy_dir=script_dir("deploy", top_dir),
        revert_dir=script_dir("revert", top_dir),
        verify_dir=script_dir("verify", top_dir),
        reworked_deploy_dir=script_dir("deploy", reworked_dir, "reworked_"),
        reworked_revert_dir=script_dir("revert", reworked_dir, "reworked_"),
        reworked_verify_dir=script_dir("verify", reworked_dir, "reworked_"),
        extension=fetch("extension") or "sql",
        variables=variables,
    )


def system_user() -> str | None:
    user = os.environ.get("SQITCH_ORIG_SYSUSER")
    if user:
        return user
    try:
        return os.getlogin()
    except OSError:
        pass
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        pass
    return os.environ.get("LOGNAME") or os.environ.get("USER") or os.environ.get("USERNAME")


def committer(config: Config) -> tuple[str, str]:
    """(name, email) of the person running the deploy, resolved as Sqitch does."""
    name = (
        os.environ.get("SQITCH_FULLNAME")
        or config.get("user.name")
        or os.environ.get("SQITCH_ORIG_FULLNAME")
    )
    email = (
        os.environ.get("SQITCH_EMAIL")
        or config.get("user.email")
        or os.environ.get("SQITCH_ORIG_EMAIL")
    )
    sysuser = system_user()
    if not name:
        if not sysuser:
            raise ConfigError(
                "Cannot find your name; set SQITCH_FULLNAME or user.name in sqitch.conf"
            )
        try:
            gecos = pwd.getpwnam(sysuser).pw_gecos.split(",")[0]
        except KeyError:
            gecos = ""
        name = gecos or sysuser
    if not email:
        if not sysuser:
            raise ConfigError("Cannot infer your email address; set SQITCH_EMAIL or user.email")
        email = f"{sysuser}@{socket.gethostname()}"
    return name, email
