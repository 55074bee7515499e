"""The full plan as a round trip: on a deployed database (a clone of the
template the deployer made), deploy again (a no-op), verify with real Sqitch
(which runs the catalog checker), revert everything (the catalog is back to
what an empty database holds), deploy again (an identical normalised dump).

One test, because each full deploy or revert of the plan costs seconds. The
deployer is ``python -m zkeb_db`` (or real Sqitch with
``ZKEB_TEST_DEPLOYER=sqitch``), the same switch as the shared fixtures.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from zkeb_db.snapshot import snapshot_of

# Every object a deploy could leave behind in the database (roles are
# cluster-wide and shared with other databases: the roles change keeps them
# while they are in use, so they are not part of the baseline).
INVENTORY = r"""
WITH nsp AS (
    SELECT oid, nspname FROM pg_catalog.pg_namespace
     WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'sqitch')
       AND nspname !~ '^pg_(toast|temp_|toast_temp_)'
)
SELECT 'schema ' || n.nspname || ' ' || pg_catalog.pg_get_userbyid(s.nspowner)
       || ' ' || COALESCE(s.nspacl::text, 'default')
  FROM nsp n JOIN pg_catalog.pg_namespace s ON s.oid = n.oid
UNION ALL SELECT 'relation ' || c.relkind::text || ' ' || c.oid::regclass::text
  FROM pg_catalog.pg_class c JOIN nsp n ON n.oid = c.relnamespace
UNION ALL SELECT 'function ' || p.oid::regprocedure::text
  FROM pg_catalog.pg_proc p JOIN nsp n ON n.oid = p.pronamespace
UNION ALL SELECT 'type ' || t.oid::regtype::text
  FROM pg_catalog.pg_type t JOIN nsp n ON n.oid = t.typnamespace
UNION ALL SELECT 'operator ' || o.oid::regoperator::text
  FROM pg_catalog.pg_operator o JOIN nsp n ON n.oid = o.oprnamespace
UNION ALL SELECT 'collation ' || c.collname
  FROM pg_catalog.pg_collation c JOIN nsp n ON n.oid = c.collnamespace
UNION ALL SELECT 'policy ' || p.polrelid::regclass::text || ' ' || p.polname
  FROM pg_catalog.pg_policy p
UNION ALL SELECT 'trigger ' || t.tgrelid::regclass::text || ' ' || t.tgname
  FROM pg_catalog.pg_trigger t WHERE NOT t.tgisinternal
UNION ALL SELECT 'rule ' || r.ev_class::regclass::text || ' ' || r.rulename
  FROM pg_catalog.pg_rewrite r WHERE r.oid >= 16384 AND r.rulename <> '_RETURN'
UNION ALL SELECT 'cast ' || c.castsource::regtype::text || ' ' || c.casttarget::regtype::text
  FROM pg_catalog.pg_cast c WHERE c.oid >= 16384
UNION ALL SELECT 'extension ' || e.extname FROM pg_catalog.pg_extension e
UNION ALL SELECT 'language ' || l.lanname FROM pg_catalog.pg_language l WHERE l.oid >= 16384
UNION ALL SELECT 'event trigger ' || e.evtname FROM pg_catalog.pg_event_trigger e
UNION ALL SELECT 'default acl ' || pg_catalog.pg_get_userbyid(d.defaclrole) || ' '
       || CASE WHEN d.defaclnamespace = 0 THEN '-' ELSE d.defaclnamespace::regnamespace::text END
       || ' ' || d.defaclobjtype::text || ' ' || x.grantee || ' '
       || x.privilege_type
  FROM pg_catalog.pg_default_acl d, pg_catalog.aclexplode(d.defaclacl) x
UNION ALL SELECT 'database privilege ' || x.grantee || ' ' || x.privilege_type
  FROM pg_catalog.pg_database d,
       pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) x
 WHERE d.datname = pg_catalog.current_database()
UNION ALL SELECT 'setting ' || s.setrole || ' ' || pg_catalog.array_to_string(s.setconfig, ',')
  FROM pg_catalog.pg_db_role_setting s, pg_catalog.pg_database d
 WHERE d.datname = pg_catalog.current_database() AND s.setdatabase = d.oid
UNION ALL SELECT 'comment on ' || x.what
  FROM pg_catalog.pg_description d,
       LATERAL (SELECT pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid)) x(what)
 WHERE d.objoid >= 16384 AND x.what !~ '(^schema sqitch$| sqitch\.)'
"""

REGISTRY_TABLES = ("projects", "releases", "changes", "tags", "dependencies", "events")


def inventory(dsn: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET search_path = pg_catalog")
        return sorted(str(r[0]) for r in conn.execute(INVENTORY))


def registry(dsn: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM sqitch.{t}").fetchall(), key=repr)
                for t in REGISTRY_TABLES}


def _sqitch_env(dsn: str) -> dict[str, str]:
    env = dict(os.environ)
    params = conninfo_to_dict(dsn)
    for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER"),
                     ("password", "PGPASSWORD"), ("dbname", "PGDATABASE")):
        env.pop(var, None)
        if params.get(key) is not None:
            env[var] = str(params[key])
    return env


def run_tool(tool: str, action: str, dsn: str, project: Path) -> str:
    """Run ``action`` (deploy, revert, verify) with real sqitch or ``python -m zkeb_db``."""
    if tool == "sqitch":
        cmd = ["sqitch", "--chdir", str(project), action, *(["-y"] if action == "revert" else []),
               "db:pg:"]
        env = _sqitch_env(dsn)
    else:
        cmd = [sys.executable, "-m", "zkeb_db", action, "--db", dsn, "--chdir", str(project),
               *(["-y"] if action == "revert" else [])]
        env = dict(os.environ)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False,
                          timeout=600)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


@pytest.fixture
def empty_db(pg_server: str) -> Iterator[str]:
    """A new database made as the template was (CREATE DATABASE from template1)."""
    name = f"zkeb_test_{os.getpid()}_{900_000_000 + secrets.randbelow(99_999_999)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(pg_server, dbname=name)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


@pytest.mark.sqitch
def test_noop_verify_revert_redeploy(db: Any, empty_db: str, project_dir: Path) -> None:
    """``db`` is a clone of the template, which the deployer deployed."""
    tool = "sqitch" if os.environ.get("ZKEB_TEST_DEPLOYER") == "sqitch" else "zkeb-db"
    baseline = inventory(empty_db)
    first = snapshot_of(db.dsn)
    assert "CREATE FUNCTION zkeb_private.guard_violations()" in first
    deployed = inventory(db.dsn)
    assert len(deployed) > len(baseline)

    # nothing to do: the registry and the schema stay exactly as they are
    before = registry(db.dsn)
    run_tool(tool, "deploy", db.dsn, project_dir)
    assert registry(db.dsn) == before
    assert snapshot_of(db.dsn) == first

    # real Sqitch verifies every change, the guard's verify running the checker
    run_tool("sqitch", "verify", db.dsn, project_dir)

    # revert everything: the catalog is back to what an empty database holds
    run_tool(tool, "revert", db.dsn, project_dir)
    assert sorted(set(inventory(db.dsn)) ^ set(baseline)) == []

    # deploy again: the same schema, object for object
    run_tool(tool, "deploy", db.dsn, project_dir)
    assert snapshot_of(db.dsn) == first
    assert inventory(db.dsn) == deployed
