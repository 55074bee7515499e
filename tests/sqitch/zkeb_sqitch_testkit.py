"""Helpers for the Sqitch-compatible deployer tests: scratch databases, running
both deployers, and hypothesis strategies that build valid plans."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from hypothesis import strategies as st

from zkeb_db.cli import main as cli_main
from zkeb_db.sqitch.plan import (
    RESERVED_NAMES,
    Change,
    Dependency,
    Plan,
    Tag,
    encode_note,
    is_valid_name,
    is_valid_tag_name,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
INTEROP = FIXTURES / "interop"
REPO = Path(__file__).resolve().parents[2]
CROSSCHECK = Path(
    os.environ.get("SQITCH_CROSSCHECK", REPO.parent / "shared" / "tools" / "sqitch-crosscheck")
)
COMMITTER = ("Zkeb Test Runner", "zkeb-tests@example.com")

@dataclass
class ScratchDB:
    name: str
    conninfo: str
    env: dict[str, str] = field(repr=False)

    @property
    def sqitch_target(self) -> str:
        """A Sqitch target for this database; the server comes from the PG* variables."""
        return f"db:pg:{self.name}"

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.conninfo, autocommit=True)

    def query(self, text: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            cur = conn.execute(text, params)
            return cur.fetchall() if cur.description else []

    def scalar(self, text: str, params: Any = None) -> Any:
        rows = self.query(text, params)
        return rows[0][0] if rows else None


@dataclass
class Result:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_sqitch(project: Path, *args: str, check: bool = True, stdin: str | None = None) -> Result:
    proc = subprocess.run(["sqitch", "--no-pager", *args], cwd=project, capture_output=True,
                          text=True, input=stdin if stdin is not None else "", timeout=300)
    res = Result(proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"sqitch {' '.join(args)} exited {proc.returncode}:\n{res.text}")
    return res


def run_zkeb(*args: str, check: bool = True, process: bool = False) -> Result:
    """Run the ``zkeb-db`` command line: in this process (fast; the same ``main`` the
    console script calls), or as ``python -m zkeb_db`` when ``process`` is true."""
    if process:
        proc = subprocess.run([sys.executable, "-m", "zkeb_db", *args], capture_output=True,
                              text=True, input="", timeout=300)
        res = Result(proc.returncode, proc.stdout, proc.stderr)
    else:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = cli_main(list(args))
            except SystemExit as exc:  # argparse errors
                rc = exc.code if isinstance(exc.code, int) else 2
        res = Result(rc, out.getvalue(), err.getvalue())
    if check and res.rc != 0:
        raise AssertionError(f"zkeb-db {' '.join(args)} exited {res.rc}:\n{res.text}")
    return res


# ---------------------------------------------------------------- plan strategies
_NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789_-.+/!$&*éüßЖ€"


def _name_ok(name: str) -> bool:
    return (
        is_valid_name(name)
        and name not in RESERVED_NAMES
        and not (len(name) >= 40 and all(c in "0123456789abcdef" for c in name[:40]))
    )


change_names = st.text(_NAME_ALPHABET, min_size=1, max_size=10).filter(_name_ok)
tag_names = change_names.filter(is_valid_tag_name)
project_names = change_names.filter(lambda n: "/" not in n)

timestamps = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31)
).map(lambda d: d.replace(microsecond=0, tzinfo=UTC))

_PERSON_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="<>#\n\r"
)
_BLANKS = (
    " \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u202f\u205f\u3000"
)
# Not "0" (Perl-false: Sqitch calls it missing), not starting with a blank.
planner_names = st.text(_PERSON_CHARS, min_size=1, max_size=20).filter(
    lambda s: s != "0" and s[0] not in _BLANKS and s.strip() != ""
)
emails = st.text(_PERSON_CHARS, min_size=1, max_size=20)

def _is_perl_space(ch: str) -> bool:
    return ch in "\t\n\x0b\x0c\r \x85\u00a0\u1680\u2028\u2029\u202f\u205f\u3000" or (
        "\u2000" <= ch <= "\u200a"
    )


def _note_ok(note: str) -> bool:
    if note == "":
        return True
    enc = encode_note(note)
    return not _is_perl_space(enc[0]) and not _is_perl_space(enc[-1])


notes = st.one_of(
    st.just(""),
    st.sampled_from(["0", "Add schema.", "a # b", "back\\slash", "two\nlines", "cr\r\nlf", "\\n"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
            min_size=1, max_size=30),
).filter(_note_ok)

uris = st.sampled_from([
    None, "https://example.com/flipr/", "https://Example.COM", "http://x.org:80/a%7eb",
    "urn:uuid:1234", "https://example.com/proj?x=1",
])


@st.composite
def plans(draw: st.DrawFn, max_sections: int = 4) -> Plan:
    project = draw(project_names)
    uri = draw(uris)
    pragmas: dict[str, str] = {}
    if draw(st.booleans()):
        pragmas["foo"] = draw(st.sampled_from(["bar", "1", "some value"]))
    n_sections = draw(st.integers(min_value=0, max_value=max_sections))
    changes: list[Change] = []
    tag_pos: dict[str, int] = {}  # tag -> position of the change it follows
    last_completed: dict[str, int] = {}  # name -> newest position in completed sections
    used_tags: set[str] = set()
    pos = 0
    for s in range(n_sections):
        # Names from earlier sections are reworks.
        earlier_names = sorted(last_completed)
        name_strategy = (
            st.one_of(change_names, st.sampled_from(earlier_names)) if earlier_names
            else change_names
        )
        section_names = draw(st.lists(name_strategy, min_size=1, max_size=4, unique=True))
        in_section: dict[str, int] = {}
        for name in section_names:
            candidates: list[Dependency] = []
            earlier = [c.name for c in changes]
            for other in earlier:
                if other in in_section or other in last_completed:
                    candidates.append(Dependency(change=other))
            for tag in tag_pos:
                candidates.append(Dependency(tag=tag))
                for other, at in last_completed.items():
                    if at < tag_pos[tag]:
                        candidates.append(Dependency(change=other, tag=tag))
            own = [Dependency(project=project, change=d.change, tag=d.tag) for d in candidates]
            external = [
                Dependency(project="other", change=draw(change_names)),
                Dependency(project="legacy", tag=draw(tag_names)),
            ]
            pool = candidates + own[:3]
            requires = (
                draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)) if pool else []
            )
            requires += draw(st.lists(st.sampled_from(external), max_size=1, unique=True))
            conflict_pool = [Dependency(conflict=True, change=n) for n in earlier[:5]] + [
                Dependency(conflict=True, project="other", change="thing")
            ]
            conflicts = draw(st.lists(st.sampled_from(conflict_pool), max_size=2, unique=True))
            # Sqitch rejects a literally repeated dependency string.
            seen: set[str] = set()
            reqs: list[Dependency] = []
            for dep in requires:
                if dep.as_plan_string() not in seen:
                    seen.add(dep.as_plan_string())
                    reqs.append(dep)
            confs = []
            for dep in conflicts:
                if dep.as_plan_string() not in seen:
                    seen.add(dep.as_plan_string())
                    confs.append(dep)
            changes.append(Change(
                name=name, planned_at=draw(timestamps), planner_name=draw(planner_names),
                planner_email=draw(emails), note=draw(notes), requires=tuple(reqs),
                conflicts=tuple(confs),
            ))
            in_section[name] = pos
            pos += 1
        if s < n_sections - 1 or draw(st.booleans()):
            n_tags = draw(st.integers(min_value=1, max_value=2))
            for _ in range(n_tags):
                tag = draw(tag_names.filter(lambda t: t not in used_tags))
                used_tags.add(tag)
                changes[-1].tags.append(Tag(
                    name=tag, planned_at=draw(timestamps), planner_name=draw(planner_names),
                    planner_email=draw(emails), note=draw(notes),
                ))
                tag_pos[tag] = pos
                pos += 1
            last_completed.update(in_section)
        else:
            # An untagged last section: later sections cannot exist anyway.
            last_completed.update(in_section)
            break
    return Plan(project=project, uri=uri, changes=changes, pragmas=pragmas)



# ------------------------------------------------------------ registry snapshots
def registry_snapshot(db: ScratchDB, schema: str = "sqitch") -> dict[str, list[tuple[Any, ...]]]:
    """The registry's deterministic columns (no commit times), in commit order."""
    s = schema.replace('"', '""')
    queries = {
        "releases": f'SELECT version, installer_name, installer_email FROM "{s}".releases',
        "projects": f'SELECT project, uri, creator_name, creator_email FROM "{s}".projects'
                    " ORDER BY project",
        "changes": "SELECT change_id, script_hash, change, project, note, committer_name,"
                   " committer_email, planned_at, planner_name, planner_email"
                   f' FROM "{s}".changes ORDER BY committed_at',
        "tags": "SELECT tag_id, tag, project, change_id, note, committer_name, committer_email,"
                " planned_at, planner_name, planner_email"
                f' FROM "{s}".tags ORDER BY committed_at, tag',
        "dependencies": "SELECT change_id, type, dependency, dependency_id"
                        f' FROM "{s}".dependencies ORDER BY change_id, dependency',
        "events": "SELECT event, change_id, change, project, note, requires, conflicts, tags,"
                  " committer_name, committer_email, planned_at, planner_name, planner_email"
                  f' FROM "{s}".events ORDER BY committed_at',
    }
    return {name: db.query(q) for name, q in queries.items()}


def events(db: ScratchDB) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in db.query(
        "SELECT event, change FROM sqitch.events ORDER BY committed_at")]


def deployed_names(db: ScratchDB) -> list[str]:
    return [r[0] for r in db.query("SELECT change FROM sqitch.changes ORDER BY committed_at")]


PSQL_LOGGER = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["ZKEB_PSQL_LOG"], "a") as fh:
    fh.write(json.dumps({"cwd": os.getcwd(), "argv": sys.argv[1:],
                         "password": os.environ.get("PGPASSWORD")}) + "\\n")
os.execvp("psql", ["psql", *sys.argv[1:]])
"""


def install_psql_logger(project: Path) -> None:
    """Make both deployers run the real psql through a wrapper that records argv and cwd
    (to the file named by ``$ZKEB_PSQL_LOG``)."""
    wrapper = project.parent / f"psql-logger-{project.name}"
    wrapper.write_text(PSQL_LOGGER)
    wrapper.chmod(0o755)
    conf = project / "sqitch.conf"
    conf.write_text(conf.read_text() + f'[engine "pg"]\n\tclient = {wrapper}\n')


def script_calls(log: Path) -> list[tuple[str, list[str]]]:
    import json

    calls = []
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        argv = entry["argv"]
        if "--file" in argv and argv[argv.index("--file") + 1].split("/")[0] in (
            "deploy", "revert", "verify"
        ):
            calls.append((entry["cwd"], argv))
    return calls
