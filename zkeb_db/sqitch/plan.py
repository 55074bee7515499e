"""Sqitch plan files: parser, model, lookups and renderer.

The parser follows Sqitch 1.3.1's grammar rule for rule (docs/sqitch-compat.md,
section 1): the same regular expressions (Perl's ``[[:blank:]]``, ``\\s`` and
``\\b`` have Unicode meaning on a decoded plan, and so do Python's), the same
order of checks, and the same dependency checks per tag section. Where Sqitch
reports a dependency error for a whole section, we name the line of the
offending change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from zkeb_db.sqitch.errors import NotFoundError, PlanError
from zkeb_db.sqitch.ids import change_info, format_timestamp, object_id, tag_info
from zkeb_db.sqitch.uri import uri_as_string

SYNTAX_VERSION = "1.0.0"

# Perl's [[:blank:]] and \s on Unicode strings.
BLANK = "\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
SPACE = "\t\n\x0b\x0c\r \x85\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Like [:punct:] but without "_".
PUNCT_CHARS = "-!\"#$%&'()*+,./:;<=>?@[\\]^`{|}~"
_P = re.escape(PUNCT_CHARS)
_B = BLANK

NAME_PATTERN = (
    rf"(?![{_P}])"
    rf"(?:(?![~/=%^]\d+(?:$|[{_B}]))[^{_B}:@#\\])+"
    rf"(?<![{_P}])\b"
)
_NAME_RE = re.compile(rf"\A{NAME_PATTERN}\Z")
_SHA1_PREFIX_RE = re.compile(r"^[0-9a-f]{40}")
_SHA1_RE = re.compile(r"\A[0-9a-f]{40}\Z")
RESERVED_NAMES = frozenset({"HEAD", "ROOT"})

_TS = (
    r"(?P<yr>\d{4})-(?P<mo>\d{2})-(?P<dy>\d{2})"
    r"T(?P<hr>\d{2}):(?P<mi>\d{2}):(?P<sc>\d{2})Z"
)
_TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_PLANNER = rf"(?P<planner_name>[^<]+)[{_B}]+<(?P<planner_email>[^>]+)>"

_BLANK_LINE_RE = re.compile(rf"\A(?P<lspace>[{_B}]*)(?:#[{_B}]*(?P<note>.+)|$)")
_NOTE_STRIP_RE = re.compile(rf"(?P<rspace>[{_B}]*)(?:#[{_B}]*(?P<note>.*))?$")
_PRAGMA_RE = re.compile(
    rf"\A(?P<lspace>[{_B}]*)?%(?P<hspace>[{_B}]*)?"
    rf"(?P<name>[^{_P}](?:[^{_B}=]*?[^{_P}{_B}])?)"
    rf"(?:(?P<lopspace>[{_B}]*)(?P<operator>=)(?P<ropspace>[{_B}]*)(?P<value>.+))?\Z"
)
_ITEM_RE = re.compile(
    rf"^(?P<lspace>[{_B}]*)?"
    rf"(?:@|(?P<lopspace>[{_B}]*)(?P<operator>[+-])(?P<ropspace>[{_B}]*))?"
    rf"(?P<name>{NAME_PATTERN})(?P<pspace>[{_B}]+)?"
    rf"(?:\[(?P<dependencies>[^\]]+)\][{_B}]*)?"
    rf"(?:{_TS}[{_B}]*)?"
    rf"(?:{_PLANNER})?$"
)
_DEP_RE = re.compile(
    rf"\A(?P<conflicts>!?)(?:(?P<project>{NAME_PATTERN}):)?"
    rf"(?:(?P<id>[0-9a-f]{{40}})|(?P<change>{NAME_PATTERN})(?:@(?P<ctag>{NAME_PATTERN}))?"
    rf"|(?:@(?P<tag>{NAME_PATTERN}))?)\Z"
)
_OFFSET_RE = re.compile(rf"(?<![{_P}])([~^])(?:(\1)|(\d+))?\Z")
_ESCAPES = {"\\\\": "\\", "\\n": "\n", "\\r": "\r"}


def is_valid_name(name: str) -> bool:
    """True when Sqitch accepts ``name`` as a change name (tags: also no ``/``)."""
    return bool(_NAME_RE.match(name)) and name != "0"


def is_valid_tag_name(name: str) -> bool:
    return is_valid_name(name) and "/" not in name


def _perl_split_blanks(text: str) -> list[str]:
    # Perl's split /[[:blank:]]+/: a leading empty field is kept, trailing ones dropped.
    parts = re.split(rf"[{_B}]+", text)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def decode_note(raw: str) -> str:
    note = re.sub(rf"\A[{SPACE}]+", "", raw)
    note = re.sub(rf"[{SPACE}]+\Z", "", note)
    return re.sub(r"\\[\\nr]", lambda m: _ESCAPES[m.group(0)], note)


def encode_note(note: str) -> str:
    return note.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


@dataclass(frozen=True)
class Dependency:
    """One item of a change's ``[...]`` list."""

    conflict: bool = False
    project: str | None = None  # the ``proj:`` prefix as written, if any
    change: str | None = None
    tag: str | None = None
    id: str | None = None  # a raw 40-hex change id

    @classmethod
    def parse(cls, text: str) -> Dependency | None:
        m = _DEP_RE.match(text)
        if not m:
            return None
        change = m.group("change")
        tag = m.group("ctag") if change is not None else m.group("tag")
        dep = cls(
            conflict=bool(m.group("conflicts")),
            project=m.group("project"),
            change=change,
            tag=tag,
            id=m.group("id"),
        )
        if dep.change is None and dep.tag is None and dep.id is None:
            return None
        return dep

    @property
    def key_name(self) -> str:
        parts = []
        if self.change is not None:
            parts.append(self.change)
        if self.tag is not None:
            parts.append("@" + self.tag)
        if not parts and self.id is not None:
            parts.append(self.id)
        return "".join(parts)

    def is_external(self, own_project: str) -> bool:
        return self.project is not None and self.project != own_project

    def as_string(self, own_project: str) -> str:
        """The form stored in the registry and hashed into ids."""
        if self.is_external(own_project):
            return f"{self.project}:{self.key_name}"
        return self.key_name

    def as_plan_string(self) -> str:
        """The form written in the plan (keeps an explicit ``proj:`` prefix)."""
        prefix = f"{self.project}:" if self.project is not None else ""
        return ("!" if self.conflict else "") + prefix + self.key_name


@dataclass(eq=False)
class Tag:
    name: str  # without the leading "@"
    planned_at: datetime
    planner_name: str
    planner_email: str
    note: str = ""
    line: int = 0
    id: str = ""
    change_index: int = -1

    @property
    def format_name(self) -> str:
        return "@" + self.name

    def key(self) -> tuple[object, ...]:
        return (self.name, self.planned_at, self.planner_name, self.planner_email, self.note)


@dataclass(eq=False)
class Change:
    name: str
    planned_at: datetime
    planner_name: str
    planner_email: str
    note: str = ""
    requires: tuple[Dependency, ...] = ()
    conflicts: tuple[Dependency, ...] = ()
    tags: list[Tag] = field(default_factory=list)
    operator: str = ""
    line: int = 0
    # Filled in when the plan is finalised.
    id: str = ""
    parent_id: str | None = None
    index: int = -1
    rework_tags: list[Tag] = field(default_factory=list)
    info: str = ""

    @property
    def is_reworked(self) -> bool:
        """True for an earlier instance of a change that is reworked later in the plan."""
        return bool(self.rework_tags)

    @property
    def dependencies(self) -> tuple[Dependency, ...]:
        return self.requires + self.conflicts

    def format_name_with_tags(self) -> str:
        return " ".join([self.name, *(t.format_name for t in self.tags)])

    def tag_qualified_name(self) -> str:
        if self.tags:
            return self.name + self.tags[0].format_name
        if self.rework_tags:
            return self.name + self.rework_tags[0].format_name
        return self.name + "@HEAD"

    def key(self) -> tuple[object, ...]:
        return (
            self.name,
            self.planned_at,
            self.planner_name,
            self.planner_email,
            self.note,
            self.requires,
            self.conflicts,
            self.operator,
            tuple(t.key() for t in self.tags),
        )


@dataclass(eq=False)
class Plan:
    project: str
    uri: str | None = None
    changes: list[Change] = field(default_factory=list)
    pragmas: dict[str, str] = field(default_factory=dict)  # every pragma, in order
    file: str = "sqitch.plan"
    _lookup: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.pragmas.setdefault("syntax-version", SYNTAX_VERSION)
        self.pragmas["project"] = self.project
        if self.uri is not None:
            self.pragmas["uri"] = self.uri
        self.finalize()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Plan):
            return NotImplemented
        return (
            self.project == other.project
            and self.uri == other.uri
            and self.pragmas == other.pragmas
            and [c.key() for c in self.changes] == [c.key() for c in other.changes]
        )

    __hash__ = None  # type: ignore[assignment]

    # ----------------------------------------------------------- derived data
    @property
    def uri_string(self) -> str | None:
        """``projects.uri`` as Sqitch stores it (None when the plan has no %uri)."""
        if self.uri is None or self.uri == "":
            return None
        return uri_as_string(self.uri)

    @property
    def tags(self) -> list[Tag]:
        return [t for c in self.changes for t in c.tags]

    def finalize(self) -> None:
        """Compute ids, rework tags and the lookup index (after any edit)."""
        parent: str | None = None
        last_of: dict[str, int] = {}
        for i, change in enumerate(self.changes):
            change.index = i
            change.parent_id = parent
            change.rework_tags = []
            change.info = change_info(
                project=self.project,
                uri=self.uri,
                name=change.name,
                parent_id=parent,
                planner_name=change.planner_name,
                planner_email=change.planner_email,
                planned_at=change.planned_at,
                requires=[d.as_string(self.project) for d in change.requires],
                conflicts=[d.as_string(self.project) for d in change.conflicts],
                note=change.note,
            )
            change.id = object_id("change", change.info)
            parent = change.id
            for tag in change.tags:
                tag.change_index = i
                tag.id = object_id(
                    "tag",
                    tag_info(
                        project=self.project,
                        uri=self.uri,
                        name=tag.name,
                        change_id=change.id,
                        planner_name=tag.planner_name,
                        planner_email=tag.planner_email,
                        planned_at=tag.planned_at,
                        note=tag.note,
                    ),
                )
            prev = last_of.get(change.name)
            if prev is not None:
                # Tags between the earlier instance and this one, newest first.
                rework: list[Tag] = []
                for j in range(i - 1, prev, -1):
                    rework.extend(self.changes[j].tags)
                rework.extend(self.changes[prev].tags)
                self.changes[prev].rework_tags = rework
            last_of[change.name] = i
        lookup: dict[str, list[int]] = {}
        for i, change in enumerate(self.changes):
            lookup.setdefault(change.name, []).append(i)
            lookup[change.id] = [i]
            for tag in change.tags:
                lookup[tag.format_name] = [i]
                lookup[tag.id] = [i]
        if self.changes:
            lookup["HEAD"] = lookup["@HEAD"] = [len(self.changes) - 1]
            lookup["ROOT"] = lookup["@ROOT"] = [0]
        self._lookup = lookup

    # --------------------------------------------------------------- lookups
    def index_of(self, key: str) -> int | None:
        """Sqitch's ``index_of``: name, ``name@tag``, ``@tag``, id, HEAD/ROOT, ``^``/``~``."""
        base, offset = split_offset(key)
        idx = self._index_of(base)
        if idx is None or not offset:
            return idx
        idx += offset
        return idx if 0 <= idx < len(self.changes) else None

    def _index_of(self, key: str) -> int | None:
        change, sep, tag = key.partition("@")
        if change == "" and sep:
            found = self._lookup.get("@" + tag)
            return found[0] if found else None
        idxs = self._lookup.get(change)
        if not idxs:
            return None
        if sep:
            tag_idx = self._lookup.get("@" + tag)
            if not tag_idx:
                raise NotFoundError(f'Unknown tag "@{tag}"')
            for i in reversed(idxs):
                if i <= tag_idx[0]:
                    return i
            return None
        if len(idxs) < 2:
            return idxs[0]
        choices = ", ".join(self.changes[i].tag_qualified_name() for i in reversed(idxs))
        raise NotFoundError(
            f'Change "{key}" is ambiguous; specify a tag-qualified change: {choices}'
        )

    def first_index_of(self, name: str, since: str | None = None) -> int | None:
        base, offset = split_offset(name)
        idxs = self._lookup.get(base)
        if not idxs:
            return None
        if since is None:
            idx: int | None = idxs[0]
        else:
            since_idx = self.index_of(since)
            if since_idx is None:
                raise NotFoundError(f'Unknown change: "{since}"')
            idx = next((i for i in idxs if i > since_idx), None)
        if idx is None or not offset:
            return idx
        idx += offset
        return idx if 0 <= idx < len(self.changes) else None

    def find(self, key: str) -> Change | None:
        """Sqitch's ``find``: ``@``-keys by :meth:`index_of`, names by their first instance."""
        idx = self.index_of(key) if "@" in key else self.first_index_of(key)
        return None if idx is None else self.changes[idx]

    def change_by_id(self, change_id: str) -> Change | None:
        idxs = self._lookup.get(change_id)
        if idxs and self.changes[idxs[0]].id == change_id:
            return self.changes[idxs[0]]
        return None

    # ------------------------------------------------------------ rendering
    def render(self) -> str:
        return render_plan(self)


def split_offset(key: str) -> tuple[str, int]:
    """Strip a trailing ``^``, ``^^``, ``^N``, ``~``, ``~~`` or ``~N``; return the offset."""
    m = _OFFSET_RE.search(key)
    if not m:
        return key, 0
    offset = int(m.group(3)) if m.group(3) is not None else (2 if m.group(2) else 1)
    if m.group(1) == "^":
        offset = -offset
    return key[: m.start()], offset


# ------------------------------------------------------------------- parsing
def load_plan(path: Path | str, *, display_name: str | None = None) -> Plan:
    """Read and parse a plan file."""
    p = Path(path)
    name = display_name or str(path)
    if not p.exists():
        raise PlanError(f"Plan file {name} does not exist", file=name)
    if not p.is_file():
        raise PlanError(f"Plan file {name} is not a regular file", file=name)
    return parse_plan(p.read_bytes(), file=name)


def parse_plan(data: bytes | str, *, file: str = "sqitch.plan") -> Plan:
    """Parse plan text (bytes are decoded as strict UTF-8)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise PlanError("invalid UTF-8 in the plan file", file=file, line=line) from exc
    else:
        text = data
    return _Parser(text, file).parse()


def _lines(text: str) -> Iterator[tuple[int, str]]:
    # Lines end at "\n" only (a lone "\r" is data); "\r\n" endings are accepted.
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    for i, line in enumerate(parts, start=1):
        yield i, line[:-1] if line.endswith("\r") else line


class _Parser:
    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.lineno = 0

    def error(self, message: str, line: int | None = None) -> PlanError:
        return PlanError(message, file=self.file, line=self.lineno if line is None else line)

    def parse(self) -> Plan:
        lines = _lines(self.text)
        pragmas: dict[str, str] = {}
        project: str | None = None
        for self.lineno, line in lines:
            bm = _BLANK_LINE_RE.match(line)
            if bm:
                note = bm.group("note")
                # An empty line ends the header; so does a comment whose note is
                # Perl-false once trimmed ("#", "# 0"), as in Sqitch.
                if note is None or decode_note(note) in ("", "0"):
                    break
                continue
            line = _NOTE_STRIP_RE.sub("", line, count=1)
            pm = _PRAGMA_RE.match(line)
            if not pm:
                hint = (
                    " (the file starts with a byte order mark)" if line.startswith("\ufeff") else ""
                )
                raise self.error(
                    "Invalid pragma; a blank line must come between pragmas and changes" + hint
                )
            name = pm.group("name")
            value = pm.group("value")
            if name == "syntax-version":
                pragmas["syntax-version"] = SYNTAX_VERSION
            elif name == "project":
                if value is None or not _NAME_RE.match(value):
                    raise self.error(
                        f'invalid project name "{value or ""}": project names must not begin '
                        'with punctuation, contain "@", ":", "#", "\\", or blanks, or end in '
                        "punctuation or digits following punctuation"
                    )
                project = value
                pragmas["project"] = value
            else:
                pragmas[name] = value if value is not None else "1"
        header_end = self.lineno
        if not project:
            raise PlanError(
                f"Missing %project pragma in the header of {self.file} (lines 1-{header_end})",
                file=self.file,
                line=max(header_end, 1),
            )
        uri = pragmas.get("uri")
        if uri == "" or uri == "0":
            uri_value: str | None = None
        else:
            uri_value = uri
        changes = self._parse_body(lines, project)
        return Plan(
            project=project, uri=uri_value, changes=changes, pragmas=pragmas, file=self.file
        )

    def _parse_body(self, lines: Iterable[tuple[int, str]], project: str) -> list[Change]:
        changes: list[Change] = []
        section: list[Change] = []
        line_no_for: dict[str, int] = {}
        tag_changes: dict[str, int] = {}
        prev_change: Change | None = None
        for self.lineno, raw in lines:
            if _BLANK_LINE_RE.match(raw):
                continue
            nm = _NOTE_STRIP_RE.search(raw)
            assert nm is not None
            note_raw = nm.group("note")
            line = raw[: nm.start()] + raw[nm.end() :]
            is_tag = bool(re.match(rf"^[{_B}]*@", line))
            m = _ITEM_RE.match(line)
            params = m.groupdict() if m else {}
            name = params.get("name")
            if not name or name == "0" or (not params.get("yr") and _TS_RE.search(line)):
                raise self.error(
                    'Invalid name; names must not begin with punctuation, contain "@", ":", "#", '
                    '"\\", or blanks, or end in punctuation or digits following punctuation'
                )
            # Perl truthiness: a planner named "0" counts as missing, as in Sqitch.
            has_planner = params.get("planner_name") not in (None, "", "0")
            if not params.get("yr") and not has_planner:
                raise self.error("Missing timestamp and planner name and email")
            if not params.get("yr"):
                raise self.error("Missing timestamp")
            if not has_planner:
                raise self.error("Missing planner name and email")
            if name in RESERVED_NAMES:
                raise self.error(f'"{"@" if is_tag else ""}{name}" is a reserved name')
            if _SHA1_PREFIX_RE.match(name):
                raise self.error(f'"{name}" is invalid because it could be confused with a SHA1 ID')
            planned_at = self._timestamp(params)
            note = decode_note(note_raw) if note_raw else ""
            planner_name = params["planner_name"]
            planner_email = params["planner_email"]
            if is_tag:
                if "/" in name:
                    raise self.error(f'Tag "{name}" contains illegal character /')
                if prev_change is None:
                    raise self.error(f'Tag "{name}" declared without a preceding change')
                key = "@" + name
                if key in line_no_for:
                    raise self.error(
                        f'Tag "{name}" duplicates earlier declaration on line {line_no_for[key]}'
                    )
                if params.get("dependencies"):
                    raise self.error("Tags may not specify dependencies")
                if section:
                    self._check_section(project, line_no_for, section)
                    changes.extend(section)
                    section = []
                prev_change.tags.append(
                    Tag(
                        name=name,
                        planned_at=planned_at,
                        planner_name=planner_name,
                        planner_email=planner_email,
                        note=note,
                        line=self.lineno,
                    )
                )
                line_no_for.update(tag_changes)
                line_no_for[key] = self.lineno
                tag_changes = {}
                continue
            if name in tag_changes:
                raise self.error(
                    f'Change "{name}" duplicates earlier declaration on line {tag_changes[name]}'
                )
            requires: list[Dependency] = []
            conflicts: list[Dependency] = []
            deps_text = params.get("dependencies")
            if deps_text:
                seen_dep: set[str] = set()
                for depstring in _perl_split_blanks(deps_text):
                    dep = Dependency.parse(depstring)
                    if dep is None:
                        raise self.error(f'"{depstring}" is not a valid dependency specification')
                    if depstring in seen_dep:
                        raise self.error(f'Duplicate dependency "{depstring}"')
                    seen_dep.add(depstring)
                    if dep.id is not None and dep.project is None:
                        raise self.error(
                            f'Dependency "{depstring}" is a bare change id; Sqitch cannot compute '
                            "ids for such a plan (name the change, or prefix the id with its"
                            " project)"
                        )
                    (conflicts if dep.conflict else requires).append(dep)
            prev_change = Change(
                name=name,
                planned_at=planned_at,
                planner_name=planner_name,
                planner_email=planner_email,
                note=note,
                requires=tuple(requires),
                conflicts=tuple(conflicts),
                operator=params.get("operator") or "",
                line=self.lineno,
            )
            tag_changes[name] = self.lineno
            section.append(prev_change)
        if section:
            self._check_section(project, line_no_for, section)
            changes.extend(section)
        return changes

    def _timestamp(self, params: dict[str, str | None]) -> datetime:
        parts = [params[k] or "" for k in ("yr", "mo", "dy", "hr", "mi", "sc")]
        if not all(p.isascii() for p in parts):
            raise self.error("Invalid timestamp: digits must be ASCII")
        yr, mo, dy, hr, mi, sc = (int(p) for p in parts)
        try:
            return datetime(yr, mo, dy, hr, mi, sc, tzinfo=UTC)
        except ValueError as exc:
            stamp = f"{'-'.join(parts[:3])}T{':'.join(parts[3:])}Z"
            raise self.error(f"Invalid timestamp {stamp}: {exc}") from exc

    def _check_section(self, project: str, seen: dict[str, int], section: list[Change]) -> None:
        """Sqitch's check_changes: requirements must name earlier changes or tags."""
        position: dict[str, int] = {}
        problems: list[tuple[Change, str]] = []
        for i, change in enumerate(section, start=1):
            for dep in change.requires:
                if dep.project is not None:
                    if dep.project != project:
                        continue
                elif dep.id is not None:
                    continue
                key = dep.key_name
                if re.search(r".@", key):
                    cname, _, tname = key.partition("@")
                    tag_at = seen.get("@" + tname)
                    change_at = seen.get(cname)
                    if tag_at and change_at and change_at < tag_at:
                        continue
                elif key in seen or key in position:
                    continue
                problems.append((change, key))
            position[change.name] = i
        if not problems:
            return
        change, key = problems[0]
        if key == change.name:
            msg = f'Change "{change.name}" cannot require itself'
        elif key in position:
            delta = position[key] - position[change.name]
            msg = (
                f'Change "{change.name}" planned {delta} change{"s" if delta != 1 else ""} '
                f'before required change "{key}"'
            )
        else:
            msg = f'Unknown change "{key}" required by change "{change.name}"'
        if len(problems) > 1:
            msg += f" (and {len(problems) - 1} more dependency error(s))"
        raise self.error(msg, line=change.line)


# ----------------------------------------------------------------- rendering
def format_planner(name: str, email: str) -> str:
    return f"{name} <{email}>"


def render_change_line(change: Change) -> str:
    parts = [change.operator + change.name]
    deps = [d.as_plan_string() for d in change.requires + change.conflicts]
    if deps:
        parts.append("[" + " ".join(deps) + "]")
    parts.append(format_timestamp(change.planned_at))
    parts.append(format_planner(change.planner_name, change.planner_email))
    line = " ".join(parts)
    if change.note:
        line += " # " + encode_note(change.note)
    return line


def render_tag_line(tag: Tag) -> str:
    line = " ".join(
        [
            tag.format_name,
            format_timestamp(tag.planned_at),
            format_planner(tag.planner_name, tag.planner_email),
        ]
    )
    if tag.note:
        line += " # " + encode_note(tag.note)
    return line


def render_plan(plan: Plan) -> str:
    """Plan text that parses back to an equal plan (LF line endings)."""
    out: list[str] = []
    pragmas = dict(plan.pragmas)
    pragmas["syntax-version"] = SYNTAX_VERSION
    pragmas["project"] = plan.project
    order = ["syntax-version", "project", "uri"]
    for name in order + [k for k in pragmas if k not in order]:
        if name in pragmas:
            out.append(f"%{name}={pragmas[name]}")
    out.append("")
    for i, change in enumerate(plan.changes):
        out.append(render_change_line(change))
        for tag in change.tags:
            out.append(render_tag_line(tag))
        if change.tags and i < len(plan.changes) - 1:
            out.append("")
    return "\n".join(out) + "\n"


def plan_timestamp(text: str) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SSZ`` into an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
