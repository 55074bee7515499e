"""Change ids, tag ids and script hashes, byte for byte as Sqitch computes them.

An id is the SHA-1 of a git-object-like header (``change <len>\\0`` or
``tag <len>\\0``) followed by the UTF-8 "info" text of the item; see section 2
of docs/sqitch-compat.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from zkeb_db.sqitch.uri import uri_canonical


def format_timestamp(ts: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC, as in the plan and in the id text."""
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _perl_true(text: str | None) -> bool:
    # Perl truthiness of a string: undef, "" and "0" are false.
    return text is not None and text not in ("", "0")


def change_info(
    *,
    project: str,
    uri: str | None,
    name: str,
    parent_id: str | None,
    planner_name: str,
    planner_email: str,
    planned_at: datetime,
    requires: Sequence[str],
    conflicts: Sequence[str],
    note: str,
) -> str:
    """The text Sqitch hashes for a change (``sqitch show change`` prints it)."""
    lines = [f"project {project}"]
    if _perl_true(uri):
        assert uri is not None
        lines.append(f"uri {uri_canonical(uri)}")
    lines.append(f"change {name}")
    if parent_id:
        lines.append(f"parent {parent_id}")
    lines.append(f"planner {planner_name} <{planner_email}>")
    lines.append(f"date {format_timestamp(planned_at)}")
    if requires:
        lines.append("requires\n  + " + "\n  + ".join(requires))
    if conflicts:
        lines.append("conflicts\n  - " + "\n  - ".join(conflicts))
    if _perl_true(note):
        lines.extend(["", note])
    return "\n".join(lines)


def tag_info(
    *,
    project: str,
    uri: str | None,
    name: str,
    change_id: str,
    planner_name: str,
    planner_email: str,
    planned_at: datetime,
    note: str,
) -> str:
    """The text Sqitch hashes for a tag (``sqitch show tag`` prints it)."""
    lines = [f"project {project}"]
    if _perl_true(uri):
        assert uri is not None
        lines.append(f"uri {uri_canonical(uri)}")
    lines.append(f"tag @{name}")
    lines.append(f"change {change_id}")
    lines.append(f"planner {planner_name} <{planner_email}>")
    lines.append(f"date {format_timestamp(planned_at)}")
    if _perl_true(note):
        lines.extend(["", note])
    return "\n".join(lines)


def object_id(kind: str, info: str) -> str:
    """SHA-1 hex of ``"<kind> <byte length>\\0<info>"``; kind is ``change`` or ``tag``."""
    data = info.encode("utf-8")
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data).hexdigest()


def script_hash(path: Path) -> str | None:
    """SHA-1 hex of the raw bytes of a script, or None when it does not exist."""
    if not path.is_file():
        return None
    return hashlib.sha1(path.read_bytes()).hexdigest()
