"""Plan parser, ids and renderer: unit tests, malformed plans, hypothesis round trip."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from zkeb_sqitch_testkit import INTEROP, plans, run_sqitch

from zkeb_db.sqitch.errors import NotFoundError, PlanError
from zkeb_db.sqitch.ids import object_id
from zkeb_db.sqitch.plan import (
    Dependency,
    Plan,
    load_plan,
    parse_plan,
    render_plan,
    split_offset,
)

WORKED = """%project=flipr
%uri=https://example.com/flipr/

appschema 2024-01-02T03:04:05Z Ann Planner <ann@example.com> # Add schema.
users [appschema] 2024-01-02T03:05:00Z Ann Planner <ann@example.com> # Users table.\\nSecond line.
@v1.0 2024-01-03T00:00:00Z Ann Planner <ann@example.com> # First release.

users [users@v1.0 !legacy:users] 2024-02-01T10:00:00Z Bob <bob@example.com>
"""

HEAD = "%syntax-version=1.0.0\n%project=proj\n\n"
C = "2024-01-02T03:04:05Z Ann <ann@example.com>"


def test_worked_example_ids_from_the_fact_sheet() -> None:
    plan = parse_plan(WORKED)
    appschema, users, users2 = plan.changes
    assert appschema.info == (
        "project flipr\nuri https://example.com/flipr/\nchange appschema\n"
        "planner Ann Planner <ann@example.com>\ndate 2024-01-02T03:04:05Z\n\nAdd schema."
    )
    assert len(appschema.info.encode()) == 138
    assert appschema.id == "3212ebcf19f03f9a99e47ee74e5bb2938039672d"
    assert users.id == "db16b3eab922aa42dd38b4131020e2d34c2a37ac"
    assert users.note == "Users table.\nSecond line."
    assert users.tags[0].id == "3468c1c7296e9305f1535bf7d1bc305f7ae50dc9"
    assert users2.id == "2692658b7d4404aa145eecdf82bdd6e5f931545d"
    assert users2.parent_id == users.id
    assert [t.name for t in users.rework_tags] == ["v1.0"]
    assert users.is_reworked and not users2.is_reworked


def test_crlf_plan_gives_the_same_ids() -> None:
    lf = parse_plan(WORKED)
    crlf = parse_plan(WORKED.replace("\n", "\r\n").encode())
    assert [c.id for c in crlf.changes] == [c.id for c in lf.changes]
    assert [t.id for t in crlf.tags] == [t.id for t in lf.tags]
    assert crlf == lf


def test_grammar_details() -> None:
    text = (
        "%syntax-version = 2.0.0\n"
        "  %  project = proj  # a comment on the pragma\n"
        "%uri=https://Example.COM\n"
        "%flag\n"
        "# a header comment\n"
        "\n"
        "# a body comment\n"
        "a 2024-01-02T03:04:05Z Ann   Planner  <ann@example.com>   #   note with # hash  \n"
        "b [a  other:x  !c\tproj:a] 2024-01-02T03:04:06Z B <b@x>"
        " # \\\\n is not \\n but \\r is CR\n"
        "@t1 2024-01-03T00:00:00Z T <t@x>\n"
        "c [@t1 proj:a@t1] 2024-01-04T00:00:00Z C <c@x> # 0\n"
        "  \n"
    )
    plan = parse_plan(text)
    assert plan.project == "proj"
    assert plan.pragmas["syntax-version"] == "1.0.0"  # always treated as 1.0.0
    assert plan.pragmas["flag"] == "1"
    assert plan.uri == "https://Example.COM"
    assert plan.uri_string == "https://Example.COM"  # stored as written
    a, b, c = plan.changes
    assert a.planner_name == "Ann   Planner "  # only one blank is lost
    assert a.note == "note with # hash"
    assert b.note == "\\n is not \n but \r is CR"
    assert [d.as_plan_string() for d in b.requires] == ["a", "other:x", "proj:a"]
    assert [d.as_string("proj") for d in b.requires] == ["a", "other:x", "a"]
    assert [d.as_string("proj") for d in b.conflicts] == ["c"]
    assert "\n  + a\n  + other:x\n  + a\nconflicts\n  - c" in b.info
    assert [d.as_string("proj") for d in c.requires] == ["@t1", "a@t1"]
    assert c.note == "0" and not c.info.endswith("\n0")  # note "0" is not hashed
    assert "uri https://example.com/" in a.info  # the id hashes the canonical uri
    assert [t.name for t in b.tags] == ["t1"]
    assert (a.line, b.line, c.line, b.tags[0].line) == (8, 9, 11, 10)


def test_header_comment_with_perl_false_note_ends_the_header() -> None:
    # "# 0" is a Perl-false comment: Sqitch treats it like the blank line.
    plan = parse_plan(f"%project=p\n# 0\na {C}\n")
    assert [c.name for c in plan.changes] == ["a"]


def test_rework_script_tags_newest_first() -> None:
    text = (HEAD + f"x {C}\n@a {C}\ny {C}\n@b {C}\n@b2 {C}\nz {C}\n@c {C}\n\n"
            f"x [x@c] {C}\n@d {C}\n\nx [x@d] {C}\n")
    plan = parse_plan(text)
    x1, _y, _z, x2, x3 = plan.changes
    # The newest tag before the rework first (a change's own tags in plan order).
    assert [t.name for t in x1.rework_tags] == ["c", "b", "b2", "a"]
    assert [t.name for t in x2.rework_tags] == ["d"]
    assert x3.rework_tags == []
    assert len({x1.id, x2.id, x3.id}) == 3


def test_lookups() -> None:
    plan = parse_plan(WORKED)
    first, second = plan.changes[1], plan.changes[2]
    assert plan.index_of("users@v1.0") == 1
    assert plan.index_of("@v1.0") == 1
    assert plan.index_of("users@HEAD") == 2
    assert plan.index_of("appschema") == 0
    assert plan.index_of(second.id) == 2
    assert plan.index_of(plan.tags[0].id) == 1
    assert plan.index_of("HEAD") == 2 and plan.index_of("@ROOT") == 0
    assert plan.index_of("HEAD^") == 1 and plan.index_of("@HEAD^^") == 0
    assert plan.index_of("appschema~2") == 2 and plan.index_of("appschema~3") is None
    assert plan.find("users") is first  # a bare name means the first instance
    assert plan.index_of("nope") is None
    with pytest.raises(NotFoundError, match="ambiguous"):
        plan.index_of("users")
    with pytest.raises(NotFoundError, match="Unknown tag"):
        plan.index_of("users@v9")
    assert split_offset("a^3") == ("a", -3)
    assert split_offset("a~~") == ("a", 2)


def test_dependency_parsing() -> None:
    assert Dependency.parse("!proj:x@t") == Dependency(conflict=True, project="proj", change="x",
                                                       tag="t")
    assert Dependency.parse("@t") == Dependency(tag="t")
    assert Dependency.parse("p:" + "a" * 40) == Dependency(project="p", id="a" * 40)
    for bad in ("", "!", "p:", "a b", "x@", "-x", "x^2"):
        assert Dependency.parse(bad) is None, bad


# Every way Sqitch rejects a plan, with the line it must name.
A = f"a {C}\n"
DUP = "duplicates earlier declaration on line"
MALFORMED: list[tuple[str, str, int, str]] = [
    ("no blank line after pragmas", f"%project=p\na {C}\n", 2, "blank line must come between"),
    ("missing project", f"%syntax-version=1.0.0\n\na {C}\n", 2, "Missing %project"),
    ("invalid project name", f"%project=-p\n\na {C}\n", 1, "invalid project name"),
    ("missing timestamp", HEAD + "a Ann <a@x>\n", 4, "Missing timestamp"),
    ("timestamp without Z", HEAD + "a 2024-01-02T03:04:05 Ann <a@x>\n", 4, "Missing timestamp"),
    ("timestamp with a blank", HEAD + "a 2024-01-02 03:04:05Z Ann <a@x>\n", 4, "Missing timestamp"),
    ("impossible date", HEAD + "a 2024-02-30T00:00:00Z Ann <a@x>\n", 4, "Invalid timestamp"),
    ("missing planner", HEAD + "a 2024-01-02T03:04:05Z\n", 4, "Missing planner"),
    ("planner without email", HEAD + "a 2024-01-02T03:04:05Z Ann\n", 4, "Invalid name"),
    ("missing everything", HEAD + A + "b\n", 5, "Missing timestamp and planner"),
    ("duplicate change", HEAD + A + f"b {C}\n" + A, 6, f"{DUP} 4"),
    ("tag before any change", HEAD + f"@t {C}\n", 4, "without a preceding change"),
    ("duplicate tag", HEAD + A + f"@t {C}\nb {C}\n@t {C}\n", 7, f"{DUP} 5"),
    ("tag with dependencies", HEAD + A + f"@t [a] {C}\n", 5, "Tags may not specify dependencies"),
    ("tag with slash", HEAD + A + f"@t/1x {C}\n", 5, "illegal character /"),
    ("unknown dependency", HEAD + A + f"b [nope] {C}\n", 5, 'Unknown change "nope"'),
    ("later dependency", HEAD + f"a [b] {C}\nb {C}\n", 4, 'planned 1 change before required'),
    ("self dependency", HEAD + f"a [a] {C}\n", 4, "cannot require itself"),
    ("unknown tag dependency", HEAD + A + f"b [@t] {C}\n", 5, 'Unknown change "@t"'),
    ("change@tag after the tag", HEAD + A + f"@t {C}\nb {C}\nc [b@t] {C}\n", 7,
     'Unknown change "b@t"'),
    ("own-project dependency", HEAD + A + f"b [proj:nope] {C}\n", 5, 'Unknown change "nope"'),
    ("dependency error before a tag", HEAD + A + f"b [x] {C}\n@t {C}\n", 5, 'Unknown change "x"'),
    ("invalid dependency", HEAD + A + f"b [a@] {C}\n", 5, "not a valid dependency"),
    ("leading blank in dependencies", HEAD + A + f"b [ a] {C}\n", 5, "not a valid dependency"),
    ("duplicate dependency", HEAD + A + f"b [a a] {C}\n", 5, 'Duplicate dependency "a"'),
    ("name starting with punctuation", HEAD + f"-a- {C}\n", 4, "Invalid name"),
    ("name ending with punctuation", HEAD + f"a- {C}\n", 4, "Invalid name"),
    ("name ending like ^2", HEAD + f"a^2 {C}\n", 4, "Invalid name"),
    ("name ending like /3", HEAD + f"a/3 {C}\n", 4, "Invalid name"),
    ("name with colon", HEAD + f"a:b {C}\n", 4, "Invalid name"),
    ("name with backslash", HEAD + f"a\\b {C}\n", 4, "Invalid name"),
    ("name 0", HEAD + f"0 {C}\n", 4, "Invalid name"),
    ("reserved HEAD", HEAD + f"HEAD {C}\n", 4, '"HEAD" is a reserved name'),
    ("reserved tag ROOT", HEAD + A + f"@ROOT {C}\n", 5, '"@ROOT" is a reserved name'),
    ("sha1-like name", HEAD + f"{'a' * 40}x {C}\n", 4, "confused with a SHA1 ID"),
    ("bare hash line", HEAD + A + "#\n", 5, "Invalid name"),
    ("planner named 0", HEAD + "a 2024-01-02T03:04:05Z 0 <a@x>\n", 4, "Missing planner"),
]


@pytest.mark.parametrize(("text", "line", "message"), [m[1:] for m in MALFORMED],
                         ids=[m[0] for m in MALFORMED])
def test_malformed_plans_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(text.encode(), file="sqitch.plan")
    assert info.value.line == line
    assert f"line {line}" in str(info.value)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_invalid_utf8_names_the_line() -> None:
    with pytest.raises(PlanError, match="line 4"):
        parse_plan(HEAD.encode() + b"a " + C.encode() + b" # \xff\n")


def test_bare_id_dependency_is_refused_with_its_line() -> None:
    # Sqitch 1.3.1 recurses forever on these; refuse them clearly instead.
    with pytest.raises(PlanError, match=r"line 5.*bare change id"):
        parse_plan(HEAD + f"a {C}\nb [{'a' * 40}] {C}\n")


@pytest.mark.slow  # ~40 sqitch runs: checks the cases above are real Sqitch rejections
@pytest.mark.sqitch
def test_real_sqitch_rejects_every_malformed_plan(tmp_path: Path) -> None:
    def accepted(case: tuple[int, tuple[str, str, int, str]]) -> str | None:
        i, (label, text, _line, _msg) = case
        d = tmp_path / str(i)
        d.mkdir()
        (d / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
        (d / "sqitch.plan").write_text(text, encoding="utf-8")
        return label if run_sqitch(d, "plan", "--no-headers", check=False).rc == 0 else None

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert [r for r in pool.map(accepted, enumerate(MALFORMED)) if r] == []


@given(plan=plans())
def test_render_then_parse_gives_the_same_plan(plan: Plan) -> None:
    text = render_plan(plan)
    back = parse_plan(text.encode())
    assert back == plan
    assert [c.id for c in back.changes] == [c.id for c in plan.changes]
    assert render_plan(back) == text


@pytest.mark.sqitch
@given(plan=plans(max_sections=3))
@settings(max_examples=max(10, settings.default.max_examples // 5))  # one sqitch run each
def test_generated_plans_get_sqitchs_ids(
    plan: Plan, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if not plan.changes:
        return
    d = tmp_path_factory.mktemp("gen")
    (d / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    (d / "sqitch.plan").write_text(render_plan(plan), encoding="utf-8", newline="")
    res = run_sqitch(d, "plan", "--no-headers", "--format", "format:%H")
    assert res.out.split() == [c.id for c in plan.changes]


def test_fixture_plan_parses() -> None:
    plan = load_plan(INTEROP / "sqitch.plan")
    assert plan.project == "zkeb_interop"
    names = [c.format_name_with_tags() for c in plan.changes]
    assert names == ["appschema", "users", "widgets @v1.0", "funcs/greet", "users @v1.1 @v1.1.1",
                     "counters", "gadgets"]
    assert plan.changes[0].planned_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.sqitch
def test_fixture_ids_equal_real_sqitch() -> None:
    plan = load_plan(INTEROP / "sqitch.plan")
    raw = run_sqitch(INTEROP, "plan", "--format", "raw", "--no-headers").out
    ids = [line.split()[1] for line in raw.splitlines() if line.startswith("deploy ")]
    assert ids == [c.id for c in plan.changes]
    # The hashed text itself, for the changes with a rework, a "0" note and escapes.
    for change in (plan.changes[1], plan.changes[4], plan.changes[5]):
        assert run_sqitch(INTEROP, "show", "change", change.id).out == change.info + "\n"
    for tag in plan.tags:  # bytes: the @v1.0 note holds a CR LF
        info = subprocess.run(["sqitch", "show", "tag", tag.format_name], cwd=INTEROP,
                              capture_output=True, check=True).stdout
        assert object_id("tag", info.decode().removesuffix("\n")) == tag.id


PERL_SCRIPT_FILES = (
    "use App::Sqitch; use App::Sqitch::Target;"
    " my $t = App::Sqitch::Target->new(sqitch => App::Sqitch->new);"
    " print $_->deploy_file, qq{\\n} for $t->plan->changes;"
)


@pytest.mark.sqitch
@pytest.mark.parametrize("present", [[], ["x@a"], ["x@a", "x@b2"], ["x@c", "x@a"]])
def test_rework_script_names_equal_sqitchs(tmp_path: Path, present: list[str]) -> None:
    from zkeb_db.sqitch.engine import Project

    (tmp_path / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    (tmp_path / "sqitch.plan").write_text(
        HEAD + f"x {C}\n@a {C}\ny {C}\n@b {C}\n@b2 {C}\nz {C}\n@c {C}\n\nx [x@c] {C}\n")
    (tmp_path / "deploy").mkdir()
    for name in present:
        (tmp_path / "deploy" / f"{name}.sql").write_text("SELECT 1;\n")
    proc = subprocess.run(["perl", "-e", PERL_SCRIPT_FILES], cwd=tmp_path, capture_output=True,
                          text=True, check=True)
    project = Project.open(tmp_path, db="db:pg:")
    ours = [str(project.target.script_path("deploy", c.name, [t.name for t in c.rework_tags]))
            for c in project.plan.changes]
    assert ours == proc.stdout.splitlines()
