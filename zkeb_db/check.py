"""The zero-knowledge and tenancy catalog checker (``zkeb-db check``).

The rules live in SQL, in one function: ``zkeb_private.guard_violations()``
(change ``function_private_guard_violations``), which returns one row
``(rule, object, detail)`` per violation.  The same function backs the
change's verify script, so real ``sqitch verify`` asserts the rules too.

This module calls that function and adds what the database cannot say about
itself (rule ``guard_function``): a checker that is missing, or that differs
from the one this project ships (say, replaced by one that returns nothing),
is a violation, and the shipped rules are then run anyway, as a temporary
function inside a transaction that is rolled back.  With ``data=True`` it also
runs the data invariants of :mod:`zkeb_db.datacheck`
(``check_invariants`` and ``verify_audit_chain``).

Every query runs with ``search_path = pg_catalog``: ``pg_get_expr`` leaves
out the schema of any function visible on the path, and the policy shapes
compare fully qualified helper names.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

__all__ = [
    "GUARD_SCRIPT",
    "RULES",
    "CheckReport",
    "Rule",
    "Violation",
    "guard_function_source",
    "render_text",
    "run_catalog_checks",
    "run_checks",
    "to_json",
]

GUARD_SCRIPT = Path("deploy") / "function_private_guard_violations.sql"
"""The deploy script that defines the rules, relative to the project directory."""

_GUARD_RE = re.compile(
    r"CREATE FUNCTION zkeb_private\.guard_violations\(\)(?P<head>.*?)"
    r"AS \$guard\$(?P<body>.*?)\$guard\$;",
    re.DOTALL,
)


@dataclass(frozen=True)
class Rule:
    """One rule of the checker: its name (as the SQL reports it) and what it asserts."""

    name: str
    description: str


RULES: tuple[Rule, ...] = (
    Rule("guard_function", "the deployed checker exists and is the one this project ships"),
    Rule("roles_exist", "zkeb_owner, zkeb_app, zkeb_maintainer and zkeb_auditor exist"),
    Rule("owner_role_attributes",
         "zkeb_owner is not SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB, LOGIN or REPLICATION"),
    Rule("group_role_attributes",
         "zkeb_app, zkeb_maintainer, zkeb_auditor are NOLOGIN and hold no special attribute"),
    Rule("role_membership", "no holder of an application, maintenance or audit role can "
         "become zkeb_owner"),
    Rule("role_settings", "no role or database default sets zkeb.*, row_security or "
         "search_path"),
    Rule("app_database_privileges", "zkeb_app has neither CREATE nor TEMP on the database"),
    Rule("app_schema_privileges",
         "zkeb_app can CREATE in no schema and has USAGE on no schema but zkeb_api (and "
         "public)"),
    Rule("schema_privileges",
         "project schemas grant only USAGE, and only to the roles that need it; PUBLIC "
         "cannot CREATE in public"),
    Rule("ownership", "zkeb_owner owns every project schema, relation, function and type"),
    Rule("default_privileges",
         "zkeb_owner's global default privileges revoke EXECUTE from PUBLIC; no default "
         "grants to PUBLIC or zkeb_app"),
    Rule("extensions", "no extension lives in a project schema or in public"),
    Rule("rls_forced", "every table and partition has row level security enabled and forced"),
    Rule("rls_policies", "every table and partition has policies"),
    Rule("relation_privileges",
         "zkeb_app holds no privilege on any table, partition, view, sequence or column; "
         "nobody but the owner on project relations"),
    Rule("materialized_views", "no materialized view is readable by zkeb_app or PUBLIC"),
    Rule("rules", "no user-defined rewrite rule on project relations"),
    Rule("policy_roles", "every policy is TO zkeb_owner only (never PUBLIC)"),
    Rule("policy_shape",
         "every policy expression is an accepted shape: helper in a (SELECT ...) "
         "initPlan, no IS NULL OR, no constant true (settings_select_owner allowlisted)"),
    Rule("policy_with_check", "every UPDATE and ALL policy has an explicit WITH CHECK"),
    Rule("policy_naming", "policies are named <table>_<command>_<branch>"),
    Rule("function_public_execute", "no project function is executable by PUBLIC"),
    Rule("function_grantees",
         "EXECUTE on project functions is granted to the four project roles only"),
    Rule("app_execute", "zkeb_app can EXECUTE exactly the zkeb_api allowlist of api.md"),
    Rule("maintainer_execute",
         "zkeb_maintainer can EXECUTE exactly the zkeb_maint allowlist of api.md"),
    Rule("auditor_execute",
         "zkeb_auditor can EXECUTE exactly verify_audit_chain and export_audit_checkpoint"),
    Rule("definer_owner", "every SECURITY DEFINER function is owned by zkeb_owner"),
    Rule("definer_search_path",
         "every SECURITY DEFINER function is pinned to search_path=pg_catalog, pg_temp"),
    Rule("function_search_path",
         "every other project function is pinned to search_path=pg_catalog, pg_temp"),
    Rule("function_config", "no function sets zkeb.* or row_security"),
    Rule("leakproof", "no project function is LEAKPROOF"),
    Rule("secret_columns", "no column name suggests a secret or a plaintext identifier"),
    Rule("bytea_columns",
         "ciphertext, nonce, tag, signature, hash, key, salt, verifier columns are BYTEA "
         "with a length CHECK (nonce 12, tag 16, *_hash 32)"),
    Rule("text_columns",
         "no text-like column but the allowlist, each CHECKed to a fixed set of values"),
    Rule("json_columns", "every json/jsonb column is bounded by a CHECK"),
    Rule("tenant_user_id",
         "every tenant table has a NOT NULL user_id (audit_logs has none: it is keyed by "
         "user_hash)"),
    Rule("tenant_unique_keys",
         "user_id leads every primary/unique key and exclusion constraint (exceptions: "
         "users.username_hash, audit_logs by user_hash)"),
    Rule("tenant_foreign_keys", "every foreign key is led by user_id referencing user_id"),
    Rule("tenant_index", "user_id (audit_logs: user_hash) leads an index on every tenant table"),
    Rule("audit_append_only",
         "enabled BEFORE triggers refuse UPDATE, DELETE and TRUNCATE on the audit log"),
)

DATA_RULE = Rule(
    "data_invariants",
    "the stored data holds its invariants and the audit chain verifies (--data)",
)


@dataclass(frozen=True)
class Violation:
    """One violated rule: which rule, on which object, and why."""

    rule: str
    object: str
    detail: str


@dataclass
class CheckReport:
    """The outcome of a check: every rule that ran and every violation found."""

    rules: list[Rule]
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def violations_of(self, rule: str) -> list[Violation]:
        return [v for v in self.violations if v.rule == rule]

    def failed_rules(self) -> list[str]:
        """The rules with a violation (data checks under ``data_invariants``)."""
        return sorted({_rule_of(v) for v in self.violations})

    def objects(self, rule: str) -> set[str]:
        """The objects named by the violations of ``rule``."""
        return {v.object for v in self.violations if v.rule == rule}


def guard_function_source(project: Path | None) -> tuple[str, str] | None:
    """``(head, body)`` of the checker as the project's deploy script defines it.

    ``head`` is the text between the signature and ``AS`` (return type,
    language, volatility, ``SET search_path``), ``body`` the function body.
    None when the script is not there.
    """
    if project is None:
        return None
    path = project / GUARD_SCRIPT
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    match = _GUARD_RE.search(text)
    if match is None:
        return None
    return match.group("head"), match.group("body")


def _rows(conn: psycopg.Connection[Any], query: str) -> list[Violation]:
    cur = conn.execute(query)
    return [Violation(str(r[0]), str(r[1]), str(r[2])) for r in cur.fetchall()]


def _deployed_source(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(
        "SELECT p.prosrc FROM pg_catalog.pg_proc AS p "
        "JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'zkeb_private' AND p.proname = 'guard_violations' "
        "AND p.pronargs = 0"
    ).fetchone()
    return None if row is None else str(row[0])


def _run_shipped(conn: psycopg.Connection[Any], head: str, body: str) -> list[Violation]:
    """Run the shipped rules as a temporary function; nothing of it survives."""
    create = "CREATE FUNCTION pg_temp.zkeb_guard_violations()" + head + "AS $guard$" + body
    create += "$guard$"
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL search_path = pg_catalog")
        conn.execute(create.encode())
        return _rows(
            conn, "SELECT rule, object, detail FROM pg_temp.zkeb_guard_violations()"
        )


def run_catalog_checks(
    conn: psycopg.Connection[Any], *, project: Path | None = None
) -> list[Violation]:
    """Every catalog rule violation of the database behind ``conn``.

    ``project`` is the Sqitch project (for the shipped copy of the rules);
    without it only the deployed checker runs.  Nothing is written: the work
    happens in a transaction (a savepoint inside a caller's transaction)
    that is rolled back.
    """
    shipped = guard_function_source(project)
    found: list[Violation] = []
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL search_path = pg_catalog")
        deployed = _deployed_source(conn)
        if deployed is not None:
            found.extend(
                _rows(conn, "SELECT rule, object, detail FROM zkeb_private.guard_violations()")
            )
    if deployed is None:
        found.append(Violation(
            "guard_function", "zkeb_private.guard_violations()",
            "the checker is not deployed (change function_private_guard_violations)"
            + ("; ran the shipped rules instead" if shipped else "; no rules could run"),
        ))
    elif shipped is not None and deployed != shipped[1]:
        found.append(Violation(
            "guard_function", "zkeb_private.guard_violations()",
            f"the deployed checker differs from {GUARD_SCRIPT}; ran the shipped rules too",
        ))
    else:
        return _dedupe(found)
    if shipped is not None:
        try:
            found.extend(_run_shipped(conn, *shipped))
        except psycopg.errors.InsufficientPrivilege as exc:
            found.append(Violation(
                "guard_function", "zkeb_private.guard_violations()",
                "cannot run the shipped rules as a temporary function: "
                + str(exc).strip().splitlines()[0],
            ))
    return _dedupe(found)


def _dedupe(items: Iterable[Violation]) -> list[Violation]:
    return sorted(set(items), key=lambda v: (v.rule, v.object, v.detail))


def _data_violations(conn: psycopg.Connection[Any]) -> list[Violation]:
    """The data checks of :mod:`zkeb_db.datacheck`, or one violation saying why none ran."""
    try:
        module = importlib.import_module("zkeb_db.datacheck")
        run_data_checks = module.run_data_checks
    except (ImportError, AttributeError) as exc:
        return [Violation(
            DATA_RULE.name, "zkeb_db.datacheck",
            f"data checks unavailable: zkeb_db.datacheck.run_data_checks cannot be loaded ({exc})",
        )]
    return [_as_violation(item) for item in run_data_checks(conn)]


def _as_violation(item: Any) -> Violation:
    if isinstance(item, Violation):
        return item
    if isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 3:
        rule, obj, detail = item
    else:
        rule = getattr(item, "rule", None) or getattr(item, "invariant", None) or "data"
        obj = getattr(item, "object", None) or getattr(item, "user_id", None) or ""
        detail = getattr(item, "detail", None) or str(item)
    return Violation(f"{DATA_RULE.name}:{rule}", str(obj), str(detail))


def run_checks(
    conn: psycopg.Connection[Any], *, project: Path | None = None, data: bool = False
) -> CheckReport:
    """The catalog rules, and with ``data`` the data invariants, as one report."""
    violations = run_catalog_checks(conn, project=project)
    rules = list(RULES)
    known = {r.name for r in rules}
    # A rule the SQL reports but this module does not describe still shows.
    for name in sorted({v.rule for v in violations} - known):
        rules.append(Rule(name, "(rule reported by zkeb_private.guard_violations)"))
        known.add(name)
    if data:
        rules.append(DATA_RULE)
        violations = violations + _data_violations(conn)
    return CheckReport(rules=rules, violations=violations)


def _rule_of(violation: Violation) -> str:
    return violation.rule.split(":", 1)[0]


def render_text(report: CheckReport) -> str:
    """One line per rule (PASS/FAIL), the offending objects under each failure."""
    width = max(len(r.name) for r in report.rules)
    lines: list[str] = []
    failed = 0
    for rule in report.rules:
        mine = [v for v in report.violations if _rule_of(v) == rule.name]
        status = "FAIL" if mine else "PASS"
        failed += bool(mine)
        lines.append(f"{status}  {rule.name:<{width}}  {rule.description}")
        for v in mine:
            sub = "" if v.rule == rule.name else f"[{v.rule.split(':', 1)[1]}] "
            lines.append(f"        {sub}{v.object}: {v.detail}")
    lines.append(
        f"{len(report.rules)} rules, {failed} failed"
        + (f" ({len(report.violations)} violations)" if report.violations else "")
    )
    return "\n".join(lines)


def to_json(report: CheckReport) -> str:
    """The report as one JSON document."""
    return json.dumps(
        {
            "ok": report.ok,
            "rules": [
                {
                    "rule": rule.name,
                    "description": rule.description,
                    "ok": not any(_rule_of(v) == rule.name for v in report.violations),
                    "violations": [
                        {"rule": v.rule, "object": v.object, "detail": v.detail}
                        for v in report.violations
                        if _rule_of(v) == rule.name
                    ],
                }
                for rule in report.rules
            ],
        },
        indent=2,
    )
