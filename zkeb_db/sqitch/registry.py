"""Reading and writing the Sqitch registry (schema ``sqitch`` by default).

Every statement mirrors what Sqitch 1.3.1's PostgreSQL engine runs, with the
same defaults (``clock_timestamp()`` for every commit time, so rows written in
one transaction still sort) and the same row order. The registry connection
runs in autocommit mode; :meth:`Registry.begin_work` opens the per-change
transaction and takes ``LOCK TABLE changes IN EXCLUSIVE MODE`` as Sqitch does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from zkeb_db.sqitch.errors import RegistryError

REGISTRY_RELEASE = "1.1"
ADVISORY_LOCK_KEY = 75474063


@dataclass
class DeployedChange:
    """A change as the registry remembers it (one ``changes`` row plus its tags)."""

    id: str
    name: str
    project: str
    note: str
    planned_at: datetime
    planner_name: str
    planner_email: str
    script_hash: str | None
    committed_at: datetime
    committer_name: str = ""
    committer_email: str = ""
    tags: list[str] = field(default_factory=list)  # "@name", sorted like Sqitch

    def format_name_with_tags(self) -> str:
        return " ".join([self.name, *self.tags])


@dataclass
class EventRow:
    event: str
    project: str
    change_id: str
    change: str
    note: str
    requires: list[str]
    conflicts: list[str]
    tags: list[str]
    committer_name: str
    committer_email: str
    committed_at: datetime
    planner_name: str
    planner_email: str
    planned_at: datetime


@dataclass
class LoggedChange:
    """What an event row needs about a change (plan or registry values)."""

    id: str
    name: str
    note: str
    planned_at: datetime
    planner_name: str
    planner_email: str
    tags: list[str] = field(default_factory=list)  # "@name"
    requires: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


@dataclass
class TagRow:
    id: str
    name: str  # "@name"
    note: str
    planned_at: datetime
    planner_name: str
    planner_email: str


_CHANGE_COLUMNS = """
    c.change_id, c.change, c.project, c.note, c.planned_at, c.planner_name,
    c.planner_email, c.script_hash, c.committed_at, c.committer_name, c.committer_email,
    array_remove(array_agg(t.tag ORDER BY t.tag), NULL) AS tags
"""
_CHANGE_GROUP = """
    GROUP BY c.change_id, c.change, c.project, c.note, c.planned_at, c.planner_name,
             c.planner_email, c.script_hash, c.committed_at, c.committer_name, c.committer_email
"""


def _deployed(row: dict[str, Any]) -> DeployedChange:
    return DeployedChange(
        id=row["change_id"],
        name=row["change"],
        project=row["project"],
        note=row["note"],
        planned_at=row["planned_at"],
        planner_name=row["planner_name"],
        planner_email=row["planner_email"],
        script_hash=row["script_hash"],
        committed_at=row["committed_at"],
        committer_name=row["committer_name"],
        committer_email=row["committer_email"],
        tags=list(row["tags"] or []),
    )


class Registry:
    """The registry tables of one database, for one project."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        schema: str,
        project: str,
        committer: tuple[str, str],
    ) -> None:
        self.conn = conn
        self.schema = schema
        self.project = project
        self.user_name, self.user_email = committer
        self.in_transaction = False

    def q(self, text: str) -> sql.Composed:
        """SQL text with ``{r}`` standing for the quoted registry schema."""
        return sql.SQL(text).format(r=sql.Identifier(self.schema))

    def rows(self, text: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(self.q(text), params)
            return cur.fetchall() if cur.description else []

    def value(self, text: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        with self.conn.cursor() as cur:
            cur.execute(self.q(text), params)
            row = cur.fetchone()
            return None if row is None else row[0]

    def execute(self, text: str, params: Sequence[Any] | dict[str, Any] = ()) -> None:
        with self.conn.cursor() as cur:
            cur.execute(self.q(text), params)

    # ------------------------------------------------------------ state
    def initialized(self) -> bool:
        return bool(
            self.value(
                "SELECT EXISTS (SELECT TRUE FROM pg_catalog.pg_tables"
                " WHERE schemaname = %s AND tablename = 'changes')",
                (self.schema,),
            )
        )

    def version(self) -> str | None:
        """``MAX(version)`` of the releases table; None when the table does not exist."""
        exists = self.value(
            "SELECT EXISTS (SELECT TRUE FROM pg_catalog.pg_tables"
            " WHERE schemaname = %s AND tablename = 'releases')",
            (self.schema,),
        )
        if not exists:
            return None
        found = self.value("SELECT MAX(version)::text FROM {r}.releases")
        return str(found) if found is not None else "0"

    def check_release(self, destination: str) -> None:
        """Refuse a registry Sqitch 1.3.1 would not use as-is."""
        version = self.version()
        if version is None or not self.initialized():
            raise RegistryError(
                f'No registry found in {destination} (schema "{self.schema}").'
                " Have you ever deployed?"
            )
        if float(version) < float(REGISTRY_RELEASE):
            raise RegistryError(
                f"Registry is at version {version} but {REGISTRY_RELEASE} is needed; "
                "run `sqitch upgrade` first"
            )
        if float(version) > float(REGISTRY_RELEASE):
            raise RegistryError(
                f"Registry version is {version} but {REGISTRY_RELEASE} is the latest known; "
                "upgrade zkeb-db"
            )

    # ------------------------------------------------------------ locking
    def try_lock(self) -> bool:
        return bool(self.value("SELECT pg_catalog.pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)))

    def wait_lock(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for Sqitch's advisory lock; False on timeout."""
        with self.conn.cursor() as cur:
            cur.execute(
                sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{int(timeout_s * 1000)}ms"))
            )
            try:
                cur.execute("SELECT pg_catalog.pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
            except psycopg.errors.LockNotAvailable:
                return False
            finally:
                cur.execute("RESET lock_timeout")
        return True

    def lock_holders(self) -> list[int]:
        """Backend pids (other than ours) holding Sqitch's advisory lock."""
        rows = self.rows(
            "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = 0 AND objid = %s AND objsubid = 1 AND database = ("
            "SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"
            " AND pid <> pg_catalog.pg_backend_pid()",
            (ADVISORY_LOCK_KEY,),
        )
        return [int(r["pid"]) for r in rows]

    def begin_work(self) -> None:
        self.execute("BEGIN")
        self.in_transaction = True
        self.execute("LOCK TABLE {r}.changes IN EXCLUSIVE MODE")

    def finish_work(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            self.execute("COMMIT")

    def rollback_work(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            self.execute("ROLLBACK")

    # ------------------------------------------------------------ releases / projects
    def register_release(self) -> None:
        self.begin_work()
        self.execute(
            "INSERT INTO {r}.releases (version, installed_at, installer_name, installer_email)"
            " VALUES (%s, clock_timestamp(), %s, %s)",
            (float(REGISTRY_RELEASE), self.user_name, self.user_email),
        )
        self.finish_work()

    def register_project(self, uri: str | None) -> None:
        found = self.rows("SELECT uri FROM {r}.projects WHERE project = %s", (self.project,))
        proj = self.project
        if found:
            reg_uri = found[0]["uri"]
            if uri is not None and reg_uri is None:
                raise RegistryError(
                    f'Cannot register "{proj}" with URI {uri}: already exists with NULL URI'
                )
            if uri is None and reg_uri is not None:
                raise RegistryError(
                    f'Cannot register "{proj}" without URI: already exists with URI {reg_uri}'
                )
            if uri is not None and uri != reg_uri:
                raise RegistryError(
                    f'Cannot register "{proj}" with URI {uri}: already exists with URI {reg_uri}'
                )
            return
        if uri is not None:
            other = self.value("SELECT project FROM {r}.projects WHERE uri = %s", (uri,))
            if other is not None:
                raise RegistryError(
                    f'Cannot register "{proj}" with URI {uri}: project "{other}" already'
                    " using that URI"
                )
        self.execute(
            "INSERT INTO {r}.projects (project, uri, creator_name, creator_email, created_at)"
            " VALUES (%s, %s, %s, %s, clock_timestamp())",
            (proj, uri, self.user_name, self.user_email),
        )

    # ------------------------------------------------------------ reading changes
    def current_state(self, project: str | None = None) -> DeployedChange | None:
        rows = self.rows(
            f"SELECT {_CHANGE_COLUMNS} FROM {{r}}.changes c"
            " LEFT JOIN {r}.tags t ON c.change_id = t.change_id"
            f" WHERE c.project = %s {_CHANGE_GROUP} ORDER BY c.committed_at DESC LIMIT 1",
            (project or self.project,),
        )
        return _deployed(rows[0]) if rows else None

    def deployed_changes(self, since_id: str | None = None) -> list[DeployedChange]:
        """The project's deployed changes in commit order (after ``since_id`` if given)."""
        extra = ""
        params: list[Any] = [self.project]
        if since_id is not None:
            extra = (
                " AND c.committed_at > (SELECT committed_at FROM {r}.changes WHERE change_id = %s)"
            )
            params.append(since_id)
        rows = self.rows(
            f"SELECT {_CHANGE_COLUMNS} FROM {{r}}.changes c"
            " LEFT JOIN {r}.tags t ON c.change_id = t.change_id"
            f" WHERE c.project = %s{extra} {_CHANGE_GROUP} ORDER BY c.committed_at ASC",
            params,
        )
        return [_deployed(r) for r in rows]

    def load_change(self, change_id: str) -> DeployedChange | None:
        rows = self.rows(
            f"SELECT {_CHANGE_COLUMNS} FROM {{r}}.changes c"
            " LEFT JOIN {r}.tags t ON c.change_id = t.change_id"
            f" WHERE c.change_id = %s {_CHANGE_GROUP}",
            (change_id,),
        )
        return _deployed(rows[0]) if rows else None

    def current_tags(self, project: str | None = None) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT tag_id, tag, committer_name, committer_email, committed_at,"
            " planner_name, planner_email, planned_at FROM {r}.tags WHERE project = %s"
            " ORDER BY tags.committed_at DESC",
            (project or self.project,),
        )

    def are_deployed(self, ids: Sequence[str]) -> list[str]:
        if not ids:
            return []
        rows = self.rows(
            "SELECT change_id FROM {r}.changes WHERE change_id = ANY(%s)", (list(ids),)
        )
        return [r["change_id"] for r in rows]

    def _cid(self, order: str, project: str, offset: int = 0) -> str | None:
        found = self.value(
            f"SELECT change_id FROM {{r}}.changes WHERE project = %s"
            f" ORDER BY committed_at {order} LIMIT 1 OFFSET %s",
            (project, offset),
        )
        return None if found is None else str(found)

    def change_ids_for(
        self,
        *,
        change_id: str | None = None,
        change: str | None = None,
        tag: str | None = None,
        project: str | None = None,
        first: bool = False,
    ) -> list[str]:
        """Sqitch's change_id_for: every match (more than one only for an ambiguous name)."""
        if change_id:
            found = self.value(
                "SELECT change_id FROM {r}.changes WHERE change_id = %s", (change_id,)
            )
            return [] if found is None else [str(found)]
        proj = project or self.project
        if change:
            if tag:
                if tag == "ROOT":
                    return []
                if tag == "HEAD":
                    found = self.value(
                        "SELECT change_id FROM {r}.changes WHERE project = %s AND change = %s"
                        " ORDER BY committed_at DESC LIMIT 1",
                        (proj, change),
                    )
                    return [] if found is None else [str(found)]
                found = self.value(
                    "SELECT changes.change_id FROM {r}.changes"
                    " JOIN {r}.tags ON changes.committed_at <= tags.committed_at"
                    " AND changes.project = tags.project"
                    " WHERE changes.project = %s AND changes.change = %s AND tags.tag = %s"
                    " ORDER BY changes.committed_at DESC LIMIT 1",
                    (proj, change, "@" + tag),
                )
                return [] if found is None else [str(found)]
            rows = self.rows(
                "SELECT change_id FROM {r}.changes WHERE project = %s AND change = %s"
                " ORDER BY committed_at ASC",
                (proj, change),
            )
            ids = [str(r["change_id"]) for r in rows]
            return ids[:1] if first else ids
        if tag:
            if tag == "HEAD":
                found = self._cid("DESC", proj)
            elif tag == "ROOT":
                found = self._cid("ASC", proj)
            else:
                found = self.value(
                    "SELECT change_id FROM {r}.tags WHERE project = %s AND tag = %s",
                    (proj, "@" + tag),
                )
            return [] if found is None else [str(found)]
        return []

    def change_id_offset_from_id(self, change_id: str, offset: int) -> str | None:
        if not offset:
            return change_id
        direction, op = ("ASC", ">") if offset > 0 else ("DESC", "<")
        found = self.value(
            f"SELECT change_id FROM {{r}}.changes WHERE project = %s AND committed_at {op}"
            " (SELECT committed_at FROM {r}.changes WHERE change_id = %s)"
            f" ORDER BY committed_at {direction} LIMIT 1 OFFSET %s",
            (self.project, change_id, abs(offset) - 1),
        )
        return None if found is None else str(found)

    def changes_requiring(self, change_id: str) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT c.change_id, c.project, c.change, ("
            "   SELECT tag FROM {r}.changes c2 JOIN {r}.tags ON c2.change_id = tags.change_id"
            "    WHERE c2.project = c.project AND c2.committed_at >= c.committed_at"
            "    ORDER BY c2.committed_at LIMIT 1"
            " ) AS asof_tag"
            " FROM {r}.dependencies d JOIN {r}.changes c ON c.change_id = d.change_id"
            " WHERE d.dependency_id = %s",
            (change_id,),
        )

    def last_event(self, change_id: str) -> dict[str, Any] | None:
        rows = self.rows(
            "SELECT event, committed_at, committer_name FROM {r}.events WHERE change_id = %s"
            " ORDER BY committed_at DESC LIMIT 1",
            (change_id,),
        )
        return rows[0] if rows else None

    def events(
        self,
        *,
        project: str | None = None,
        events: Sequence[str] = (),
        change: str | None = None,
        committer: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        reverse: bool = False,
    ) -> list[EventRow]:
        where = []
        params: list[Any] = []
        for value, col in (
            (committer, "e.committer_name"),
            (change, "e.change"),
            (project, "e.project"),
        ):
            if value is not None:
                where.append(f"{col} ~ %s")
                params.append(value)
        if events:
            where.append("e.event = ANY(%s)")
            params.append(list(events))
        text = (
            "SELECT e.event, e.project, e.change_id, e.change, e.note, e.requires, e.conflicts,"
            " e.tags, e.committer_name, e.committer_email, e.committed_at, e.planner_name,"
            " e.planner_email, e.planned_at FROM {r}.events e"
        )
        if where:
            text += " WHERE " + " AND ".join(where)
        text += f" ORDER BY e.committed_at {'ASC' if reverse else 'DESC'}"
        if limit:
            text += " LIMIT %s"
            params.append(limit)
        if offset:
            text += " OFFSET %s"
            params.append(offset)
        return [EventRow(**r) for r in self.rows(text, params)]

    # ------------------------------------------------------------ writing
    def log_deploy_change(
        self,
        change: LoggedChange,
        script_hash: str | None,
        dependencies: Sequence[tuple[str, str, str | None]],
        tags: Sequence[TagRow],
    ) -> None:
        """Insert the changes row, its dependencies and tags, then the deploy event."""
        self.execute(
            "INSERT INTO {r}.changes (change_id, script_hash, change, project, note,"
            " committer_name, committer_email, planned_at, planner_name, planner_email,"
            " committed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())",
            (
                change.id,
                script_hash,
                change.name,
                self.project,
                change.note,
                self.user_name,
                self.user_email,
                change.planned_at,
                change.planner_name,
                change.planner_email,
            ),
        )
        if dependencies:
            values = sql.SQL(", ").join(sql.SQL("(%s, %s, %s, %s)") for _ in dependencies)
            params: list[Any] = []
            for dep_type, dependency, dependency_id in dependencies:
                params.extend([change.id, dep_type, dependency, dependency_id])
            with self.conn.cursor() as cur:
                cur.execute(
                    self.q(
                        "INSERT INTO {r}.dependencies (change_id, type, dependency, dependency_id)"
                        " VALUES "
                    )
                    + values,
                    params,
                )
        for tag in tags:
            self.execute(
                "INSERT INTO {r}.tags (tag_id, tag, project, change_id, note, committer_name,"
                " committer_email, planned_at, planner_name, planner_email, committed_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())",
                (
                    tag.id,
                    tag.name,
                    self.project,
                    change.id,
                    tag.note,
                    self.user_name,
                    self.user_email,
                    tag.planned_at,
                    tag.planner_name,
                    tag.planner_email,
                ),
            )
        self._log_event("deploy", change, change.tags, change.requires, change.conflicts)

    def log_new_tags(self, change_id: str, tags: Sequence[TagRow]) -> None:
        """Insert the tags of a deployed change that the registry does not have yet."""
        for tag in tags:
            self.execute(
                "INSERT INTO {r}.tags (tag_id, tag, project, change_id, note, committer_name,"
                " committer_email, planned_at, planner_name, planner_email)"
                " SELECT %s, %s, %s, %s, %s, %s, %s, %s::timestamptz, %s, %s"
                " WHERE NOT EXISTS (SELECT 1 FROM {r}.tags WHERE tag_id = %s)",
                (
                    tag.id,
                    tag.name,
                    self.project,
                    change_id,
                    tag.note,
                    self.user_name,
                    self.user_email,
                    tag.planned_at,
                    tag.planner_name,
                    tag.planner_email,
                    tag.id,
                ),
            )

    def log_fail_change(self, change: LoggedChange) -> None:
        self._log_event("fail", change, change.tags, change.requires, change.conflicts)

    def log_revert_change(self, change: LoggedChange) -> None:
        """Delete the change's tags and row (dependencies cascade), then log a revert event."""
        deleted = self.rows("DELETE FROM {r}.tags WHERE change_id = %s RETURNING tag", (change.id,))
        deps = self.rows(
            "SELECT ARRAY(SELECT dependency FROM {r}.dependencies"
            "   WHERE change_id = %(id)s AND type = 'require') AS requires,"
            " ARRAY(SELECT dependency FROM {r}.dependencies"
            "   WHERE change_id = %(id)s AND type = 'conflict') AS conflicts",
            {"id": change.id},
        )[0]
        self.execute("DELETE FROM {r}.changes WHERE change_id = %s", (change.id,))
        self._log_event(
            "revert", change, [r["tag"] for r in deleted], deps["requires"], deps["conflicts"]
        )

    def _log_event(
        self,
        event: str,
        change: LoggedChange,
        tags: Sequence[str],
        requires: Sequence[str],
        conflicts: Sequence[str],
    ) -> None:
        self.execute(
            "INSERT INTO {r}.events (event, change_id, change, project, note, tags, requires,"
            " conflicts, committer_name, committer_email, planned_at, planner_name,"
            " planner_email, committed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, clock_timestamp())",
            (
                event,
                change.id,
                change.name,
                self.project,
                change.note,
                list(tags),
                list(requires),
                list(conflicts),
                self.user_name,
                self.user_email,
                change.planned_at,
                change.planner_name,
                change.planner_email,
            ),
        )
