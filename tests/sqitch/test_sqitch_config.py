"""sqitch.conf, targets, connection strings, committer identity and URI canonicalisation."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from zkeb_db.sqitch.config import Config, load_config, parse_config
from zkeb_db.sqitch.engine import Engine, Project
from zkeb_db.sqitch.errors import ConfigError
from zkeb_db.sqitch.target import committer, parse_pg_uri, resolve_target
from zkeb_db.sqitch.uri import uri_as_string, uri_canonical

CONF = """\
# comment
[core]
\tengine = pg   ; trailing comment
\ttop_dir = db
[core "variables"]
\tSchemaName = core_value
\tshared = core
[deploy "variables"]
\tshared = deploy
[verify "variables"]
\tshared = verify
[engine "pg"]
\ttarget = prod
\tregistry = reg_engine
[engine "pg.variables"]
\tshared = engine
[target "prod"]
\turi = db:pg://alice:s3cret@db.example.com:6543/app?sslmode=require
\tregistry = "reg prod"
[target "prod.variables"]
\tshared = target
[target "dev"]
\turi = db:pg:devdb
[user]
\tname = "Ann  Example"
\temail = ann@example.com
[deploy]
\tverify = yes
"""


def project(tmp_path: Path, conf: str = CONF) -> Path:
    (tmp_path / "sqitch.conf").write_text(conf)
    return tmp_path


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("ZKEB_DB_URI", "SQITCH_TARGET", "SQITCH_USERNAME", "SQITCH_PASSWORD",
                "SQITCH_FULLNAME", "SQITCH_EMAIL", "SQITCH_CONFIG", "SQITCH_ORIG_FULLNAME",
                "SQITCH_ORIG_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SQITCH_USER_CONFIG", str(tmp_path / "none-user"))
    monkeypatch.setenv("SQITCH_SYSTEM_CONFIG", str(tmp_path / "none-system"))


def test_git_config_syntax() -> None:
    entries = parse_config('[a "Sub.X"]\n  K = " two  spaces " # c\n  flag\n[b]\nv = x\\\n y\n')
    assert entries == [("a.Sub.X.k", "a.Sub.X.K", " two  spaces "),
                       ("a.Sub.X.flag", "a.Sub.X.flag", "true"), ("b.v", "b.v", "x y")]
    cfg = Config()
    for key, written, value in entries:
        cfg.values[key] = value
        cfg.original[key] = written
    assert cfg.get("A.Sub.X.K") == " two  spaces "
    assert cfg.get("a.sub.x.k") is None  # the subsection is case-sensitive
    assert cfg.get_bool("a.Sub.X.flag") is True
    with pytest.raises(ConfigError):
        parse_config("[core\nengine = pg\n")


def test_a_key_set_twice_in_one_file_is_refused_like_sqitch(tmp_path: Path) -> None:
    cfg = load_config(project(tmp_path, "[core]\n\tengine = pg\n\tengine = pg\n"))
    with pytest.raises(ConfigError, match=r"Multiple values for core\.engine"):
        cfg.get("core.engine")


def test_variables_in_sqitchs_order(tmp_path: Path) -> None:
    proj = Project.open(project(tmp_path))
    assert proj.target.name == "prod"
    deploy = proj.variables("deploy", {"cli": "1"})
    assert deploy == {"SchemaName": "core_value", "shared": "target", "cli": "1"}
    assert proj.variables("verify", {"shared": "cli"})["shared"] == "cli"
    cfg = proj.config
    assert cfg.get_section("verify.variables") == {"shared": "verify"}
    assert cfg.get_section("engine.pg.variables") == {"shared": "engine"}


def test_target_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(project(tmp_path))
    prod = resolve_target(cfg, tmp_path)
    assert prod.name == "prod" and prod.registry == "reg prod"
    assert prod.conn.params == {"user": "alice", "dbname": "app", "host": "db.example.com",
                                "port": "6543", "sslmode": "require"}
    assert prod.conn.password == "s3cret"
    assert prod.conn.psql_dbname() == "user=alice dbname=app host=db.example.com port=6543 " \
                                      "sslmode=require"
    assert "s3cret" not in prod.destination
    assert str(prod.deploy_dir) == "db/deploy" and prod.plan_file == tmp_path / "db/sqitch.plan"

    monkeypatch.setenv("ZKEB_DB_URI", "dev")
    dev = resolve_target(cfg, tmp_path)
    assert dev.name == "dev" and dev.conn.params == {"dbname": "devdb"}
    assert dev.registry == "reg_engine"
    assert resolve_target(cfg, tmp_path, target="prod").name == "prod"
    explicit = resolve_target(cfg, tmp_path, db="postgresql://bob@h/x", target="prod")
    assert explicit.conn.params == {"user": "bob", "dbname": "x", "host": "h"}
    conninfo = resolve_target(cfg, tmp_path, db="host=127.0.0.1 dbname='a b' password=pw")
    assert conninfo.conn.psql_dbname() == "dbname=a\\ b host=127.0.0.1"
    assert conninfo.conn.password == "pw" and "pw" not in conninfo.name
    with pytest.raises(ConfigError, match='Cannot find target "nope"'):
        resolve_target(cfg, tmp_path, db="nope")

    monkeypatch.delenv("ZKEB_DB_URI")
    bare = load_config(project(tmp_path, "[core]\n\tengine = pg\n"))
    assert resolve_target(bare, tmp_path).conn.params == {}  # libpq PG* defaults
    assert resolve_target(bare, tmp_path).conn.psql_dbname() is None


@pytest.mark.parametrize(("uri", "params"), [
    ("db:pg:", {}),
    ("db:pg:mydb", {"dbname": "mydb"}),
    ("db:pg://u@h:5433/d%20b", {"user": "u", "host": "h", "port": "5433", "dbname": "d b"}),
    ("db:pg:///only_db", {"dbname": "only_db"}),
    ("postgresql://u@h/d?application_name=x", {"user": "u", "host": "h", "dbname": "d",
                                               "application_name": "x"}),
    ("host=/tmp port=5432 dbname=x", {"host": "/tmp", "port": "5432", "dbname": "x"}),
])
def test_connection_strings(uri: str, params: dict[str, str]) -> None:
    assert parse_pg_uri(uri).params == params


def test_other_engines_are_refused() -> None:
    with pytest.raises(ConfigError, match="only PostgreSQL"):
        parse_pg_uri("db:mysql://h/d")


def test_committer_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(project(tmp_path))
    assert committer(cfg) == ("Ann  Example", "ann@example.com")
    monkeypatch.setenv("SQITCH_FULLNAME", "Env Name")
    monkeypatch.setenv("SQITCH_EMAIL", "env@example.com")
    assert committer(cfg) == ("Env Name", "env@example.com")
    monkeypatch.delenv("SQITCH_FULLNAME")
    monkeypatch.delenv("SQITCH_EMAIL")
    name, email = committer(load_config(project(tmp_path, "[core]\n\tengine = pg\n")))
    assert name and "@" in email  # the system user


def test_psql_command_matches_sqitchs_shape(tmp_path: Path) -> None:
    proj = Project.open(project(tmp_path))
    engine = Engine(proj)
    cmd = engine.psql_command({"b": "2", "a": "x y"})
    assert cmd == ["psql", "--dbname",
                   "user=alice dbname=app host=db.example.com port=6543 sslmode=require",
                   "--set", "a=x y", "--set", "b=2", "--quiet", "--no-psqlrc", "--no-align",
                   "--tuples-only", "--set", "ON_ERROR_STOP=1", "--set", "registry=reg prod"]


CANONICAL = [
    ("https://Example.COM", "https://example.com/"),
    ("HTTPS://a.b:443", "https://a.b/"),
    ("http://x.y:80/a%7eb%2fc", "http://x.y/a~b%2Fc"),
    ("https://x/é ü", "https://x/%C3%A9%20%C3%BC"),
    ("git://GitHub.com/x", "git://GitHub.com/x"),
    ("urn:ISBN:123", "urn:isbn:123"),
    ("https://x.com:/p", "https://x.com/p"),
    ("https://u:P@Host.com:8443", "https://u:P@host.com:8443/"),
    ("mailto:A@B.COM", "mailto:A@B.COM"),
    ("http://x.com?q", "http://x.com?q"),
    ("https://[::1]:443/", "https://[::1]/"),
    ("https://h/%e2%82%ac#Frag", "https://h/%E2%82%AC#Frag"),
    ("https://example.com/flipr/", "https://example.com/flipr/"),
]


@pytest.mark.parametrize(("uri", "canonical"), CANONICAL)
def test_uri_canonical(uri: str, canonical: str) -> None:
    assert uri_canonical(uri) == canonical


@pytest.mark.skipif(shutil.which("perl") is None, reason="perl is not installed")
def test_uri_forms_equal_perls_uri_module() -> None:
    script = ('use URI; binmode STDOUT, ":utf8"; binmode STDIN, ":utf8";'
              ' while (my $l = <STDIN>) { chomp $l; my $u = URI->new($l);'
              ' print $u->as_string, "\\t", $u->canonical->as_string, "\\n" }')
    probe = subprocess.run(["perl", "-MURI", "-e", "1"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("Perl's URI module is not installed")
    samples = [u for u, _ in CANONICAL] + ["<URL:https://x.org/a b>", '"https://q.org"',
                                           "ftp://FTP.Example.org:21/x", "https://h.org/%41%7A"]
    proc = subprocess.run(["perl", "-e", script], input="\n".join(samples) + "\n",
                          capture_output=True, text=True, check=True)
    perl = [tuple(line.split("\t")) for line in proc.stdout.splitlines()]
    assert perl == [(uri_as_string(u), uri_canonical(u)) for u in samples]
