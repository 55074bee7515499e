"""Generate the SQL API reference (``docs/api-reference.md``) from the catalog.

Reference docs are never written by hand (conventions.md, rule 5): every
``zkeb_api`` and ``zkeb_maint`` function is read from ``pg_proc`` of a
deployed database, with its signature, result columns, ``COMMENT ON
FUNCTION`` text and the ``Errors:`` codes the comment names, and the ZK error
table comes from :mod:`zkeb_db.errors`.  The output depends only on the
catalog and the registry (no timestamps, stable order), so regenerating it
from a fresh deploy and comparing tells whether the committed file is stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row

API_SCHEMAS: tuple[str, ...] = ("zkeb_api", "zkeb_maint")

SCHEMA_INTRO: Mapping[str, str] = {
    "zkeb_api": (
        "The public API, granted to `zkeb_app`. Every function except `prelogin`, "
        "`register_user` and `login` takes the session token that `login` returned as "
        "its first argument: one statement per call, no session state, so a call works "
        "in autocommit, inside a caller's transaction and behind PgBouncer in "
        "transaction pooling mode."
    ),
    "zkeb_maint": (
        "Maintenance, retention, quota administration and audit-chain verification, "
        "granted to `zkeb_maintainer` (`zkeb_auditor` may verify and export the audit "
        "chain). Functions that delete work in bounded batches with `FOR UPDATE SKIP "
        "LOCKED`, give quota back in the same transaction and write an audit event."
    ),
}

_CODE_RE = re.compile(r"\bZK\d{3}\b")
_ERRORS_RE = re.compile(r"\bErrors?\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class ApiFunction:
    """One function as the reference shows it."""

    schema: str
    name: str
    identity_arguments: str
    arguments: str
    result: str
    returns_set: bool
    out_columns: tuple[tuple[str, str], ...]
    comment: str | None
    language: str
    volatility: str
    security_definer: bool
    execute_granted_to: tuple[str, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def anchor(self) -> str:
        return f"{self.schema}{self.name}".replace("_", "")

    @property
    def summary(self) -> str:
        """The comment up to its ``Errors:`` part."""
        text = (self.comment or "").strip()
        m = _ERRORS_RE.search(text)
        return (text[: m.start()] if m else text).strip()

    @property
    def errors_text(self) -> str:
        """The ``Errors:`` part of the comment, without the label ('' when absent)."""
        text = (self.comment or "").strip()
        m = _ERRORS_RE.search(text)
        return text[m.end() :].strip() if m else ""

    @property
    def error_codes(self) -> tuple[str, ...]:
        """The ZK codes named in the ``Errors:`` part, in order of first mention."""
        return tuple(self.error_details())

    def error_details(self) -> dict[str, str]:
        """Each ZK code of the ``Errors:`` part with the text that follows it up to
        the next code (``'ZK401 no valid session; ZK404 ...'``), in order."""
        text = self.errors_text
        matches = list(_CODE_RE.finditer(text))
        out: dict[str, str] = {}
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            detail = text[m.end() : end].strip(" \t\n;,.:-")
            if out.get(m.group()):
                detail = f"{out[m.group()]}; {detail}" if detail else out[m.group()]
            out[m.group()] = detail
        return out


@dataclass(frozen=True)
class ErrorCode:
    code: str
    meaning: str
    python_class: str


def _load_sql(name: str) -> str:
    return resources.files("zkeb_db").joinpath("sql", name).read_text(encoding="utf-8")


def read_functions(
    conn: psycopg.Connection[Any], schemas: Sequence[str] = API_SCHEMAS
) -> list[ApiFunction]:
    """Every function in ``schemas``, ordered by schema (as given) then name."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(_load_sql("apidoc_functions.sql"), {"schemas": list(schemas)})
        rows = cur.fetchall()
    order = {s: i for i, s in enumerate(schemas)}
    functions = [
        ApiFunction(
            schema=r["schema"],
            name=r["name"],
            identity_arguments=r["identity_arguments"],
            arguments=r["arguments"],
            result=r["result"],
            returns_set=r["returns_set"],
            out_columns=tuple(zip(r["out_names"], r["out_types"], strict=True)),
            comment=r["comment"],
            language=r["language"],
            volatility=r["volatility"],
            security_definer=r["security_definer"],
            execute_granted_to=tuple(r["execute_granted_to"]),
        )
        for r in rows
    ]
    functions.sort(key=lambda f: (order[f.schema], f.name, f.identity_arguments))
    return functions


def error_registry() -> list[ErrorCode]:
    """The ZK codes of :mod:`zkeb_db.errors`: code, meaning and Python class name."""
    from zkeb_db import errors

    return [
        ErrorCode(code=code, meaning=meaning, python_class=cls.__name__)
        for code, meaning, cls in _registry_entries(errors)
    ]


def _registry_entries(module: Any) -> Iterable[tuple[str, str, type]]:
    registry = module.REGISTRY
    entries = registry.values() if isinstance(registry, Mapping) else registry
    out = []
    for entry in entries:
        out.append((str(entry.code), str(entry.meaning), entry.exception))
    return sorted(out, key=lambda e: e[0])


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _split_arguments(arguments: str) -> list[str]:
    """Split ``pg_get_function_arguments`` output at top-level commas."""
    parts: list[str] = []
    depth = 0
    quote = False
    current: list[str] = []
    for ch in arguments:
        if ch == "'" :
            quote = not quote
        elif not quote and ch in "([":
            depth += 1
        elif not quote and ch in ")]":
            depth -= 1
        if ch == "," and depth == 0 and not quote:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _signature(fn: ApiFunction) -> str:
    args = _split_arguments(fn.arguments)
    if not args:
        head = f"{fn.qualified_name}()"
    else:
        head = f"{fn.qualified_name}(\n" + ",\n".join(f"    {a}" for a in args) + "\n)"
    if fn.out_columns and fn.returns_set:
        result = "TABLE (\n" + ",\n".join(f"    {n} {t}" for n, t in fn.out_columns) + "\n)"
    else:
        result = fn.result
    return f"{head}\nRETURNS {result}"


def render(functions: Sequence[ApiFunction], errors: Sequence[ErrorCode]) -> str:
    """The Markdown text of the API reference."""
    by_code = {e.code: e for e in errors}
    out: list[str] = [
        "# zkeb-db SQL API reference",
        "",
        "<!-- Generated by `zkeb-db apidoc` from the catalog of a freshly deployed "
        "database (pg_proc and COMMENT ON FUNCTION) and zkeb_db/errors.py. "
        "Do not edit: change the function's COMMENT and regenerate. -->",
        "",
        "Generated from the database catalog by `zkeb-db apidoc`; `zkeb-db apidoc --check` "
        "(and the test suite) fails when this file no longer matches a fresh deploy. "
        "The contract and the reasoning behind it are in the project docs; this page is "
        "what the deployed functions actually are.",
        "",
        "Call any function as one statement, for example "
        "`SELECT * FROM zkeb_api.list_backups($1, page_size => 50)`. "
        "Errors are raised with the SQLSTATEs listed under [Errors](#errors); the "
        "Python client maps each to one exception class.",
        "",
        "## Contents",
        "",
    ]
    for schema in API_SCHEMAS:
        fns = [f for f in functions if f.schema == schema]
        out.append(f"- [`{schema}`](#{schema.replace('_', '')}) ({len(fns)} functions)")
        for f in fns:
            out.append(f"  - [`{f.name}`](#{f.anchor})")
    out.append("- [Errors](#errors)")
    out.append("")

    for schema in API_SCHEMAS:
        out += [f"## `{schema}`", "", SCHEMA_INTRO.get(schema, ""), ""]
        for f in (f for f in functions if f.schema == schema):
            out += [f"### `{f.qualified_name}`", ""]
            out += [f.summary or "*(no comment)*", ""]
            out += ["```sql", _signature(f), "```", ""]
            details = f.error_details()
            if details:
                out += ["| error | Python | when |", "|---|---|---|"]
                for code, detail in details.items():
                    known = by_code.get(code)
                    cls = f"`{known.python_class}`" if known else "(not in the registry)"
                    when = detail or (known.meaning if known else "")
                    out.append(f"| `{code}` | {cls} | {_md_escape(when)} |")
                out.append("")
            elif f.errors_text:
                out += [f"Errors: {_md_escape(f.errors_text)}", ""]
            else:
                out += ["Errors: none listed.", ""]
            granted = ", ".join(f"`{g}`" for g in f.execute_granted_to) or "nobody"
            definer = "SECURITY DEFINER" if f.security_definer else "SECURITY INVOKER"
            out += [
                f"<sub>{definer}, {f.volatility}, {f.language}; EXECUTE granted to "
                f"{granted}.</sub>",
                "",
            ]

    out += [
        "## Errors",
        "",
        "Every expected failure raises one of these SQLSTATEs (class `ZK`); the message is "
        "for humans, DETAIL and HINT carry data. The registry is `zkeb_db/errors.py`.",
        "",
        "| code | meaning | Python class |",
        "|---|---|---|",
    ]
    for e in errors:
        out.append(f"| `{e.code}` | {_md_escape(e.meaning)} | `{e.python_class}` |")
    out.append("")
    return "\n".join(out)


def generate(conn: psycopg.Connection[Any]) -> str:
    """The reference for the database behind ``conn``."""
    return render(read_functions(conn), error_registry())


def problems(functions: Sequence[ApiFunction], errors: Sequence[ErrorCode]) -> list[str]:
    """What the reference cannot document properly: missing comments, missing or
    unregistered error codes."""
    known = {e.code for e in errors}
    out: list[str] = []
    for f in functions:
        if not f.summary:
            out.append(f"{f.qualified_name}: no COMMENT ON FUNCTION sentence")
        if not _ERRORS_RE.search(f.comment or ""):
            out.append(f"{f.qualified_name}: the comment has no 'Errors:' part")
        for code in f.error_codes:
            if code not in known:
                out.append(f"{f.qualified_name}: {code} is not in zkeb_db/errors.py")
    return out
