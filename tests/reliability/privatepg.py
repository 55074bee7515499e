"""A private PostgreSQL cluster for the races and the crash runs.

The concurrency tests open 50+ connections and the crash tests kill the server:
neither belongs on a shared server. ``PrivateCluster`` starts one throwaway
cluster (:class:`zkeb_db.embedded.EmbeddedPostgres`, root-safe), deploys the
project's plan into a template database once (real ``sqitch`` when
``ZKEB_TEST_DEPLOYER=sqitch``, else ``python -m zkeb_db deploy``), creates
login roles for the group roles, and hands out clones.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from zkeb_db.embedded import EmbeddedPostgres

TEMPLATE = "zkeb_rel_tpl"
ROLES = {"app": ("zkeb_rel_app", "zkeb_app"),
         "maint": ("zkeb_rel_maint", "zkeb_maintainer"),
         "auditor": ("zkeb_rel_auditor", "zkeb_auditor")}


def deploy(uri: str, dbname: str, project: Path) -> None:
    """Deploy ``project``'s plan into ``dbname`` of the server at ``uri``."""
    target = make_conninfo(uri, dbname=dbname)
    env = dict(os.environ)
    if os.environ.get("ZKEB_TEST_DEPLOYER", "zkeb-db") == "sqitch":
        sqitch = shutil.which("sqitch")
        if sqitch is None:
            raise RuntimeError("ZKEB_TEST_DEPLOYER=sqitch but sqitch is not installed")
        params = conninfo_to_dict(target)
        for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"),
                         ("dbname", "PGDATABASE")):
            env.pop(var, None)
            if params.get(key) is not None:
                env[var] = str(params[key])
        cmd = [sqitch, "deploy", "db:pg:"]
    else:
        cmd = [sys.executable, "-m", "zkeb_db", "deploy", "--db", target, "--chdir", str(project)]
    proc = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-3000:]}"
                           f"\n{proc.stderr[-3000:]}")


class PrivateDb:
    """A database in the private cluster: ``connect(role)`` like the ``db`` fixture."""

    def __init__(self, cluster: PrivateCluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self._connections: list[psycopg.Connection[Any]] = []

    @property
    def dsn(self) -> str:
        return self.cluster.pg.uri_for(self.name)

    def dsn_for(self, role: str = "super") -> str:
        if role == "super":
            return self.dsn
        return self.cluster.pg.uri_for(self.name, user=ROLES[role][0])

    def connect(self, role: str = "super", *, autocommit: bool = True,
                **kwargs: Any) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] = psycopg.connect(self.dsn_for(role),
                                                        autocommit=autocommit, **kwargs)
        self._connections.append(conn)
        return conn

    def close_connections(self) -> None:
        for conn in self._connections:
            with contextlib.suppress(Exception):
                conn.close()
        self._connections.clear()


class PrivateCluster:
    def __init__(self, project: Path, max_connections: int = 200) -> None:
        self.project = project
        self.pg = EmbeddedPostgres(max_connections=max_connections)
        self._names = itertools.count(1)

    def __enter__(self) -> PrivateCluster:
        self.pg.start()
        try:
            with psycopg.connect(self.pg.uri, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
            deploy(self.pg.uri, TEMPLATE, self.project)
            with psycopg.connect(self.pg.uri, autocommit=True) as conn:
                for login, group in ROLES.values():
                    conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
                        sql.Identifier(login), sql.Identifier(group)))
        except BaseException:
            self.pg.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.pg.close()

    def clone(self, prefix: str = "zkeb_rel_") -> PrivateDb:
        name = f"{prefix}{next(self._names)}"
        with psycopg.connect(self.pg.uri, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE)))
        return PrivateDb(self, name)

    def drop(self, db: PrivateDb) -> None:
        db.close_connections()
        with psycopg.connect(self.pg.uri, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(db.name)))
