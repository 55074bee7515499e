"""The two URI normalisations Sqitch applies to the ``%uri`` pragma.

Sqitch turns the pragma into a Perl ``URI`` object. The registry stores that
object as a string (:func:`uri_as_string`: wrappers and blanks removed,
characters that are not allowed in a URI percent-encoded), and every change and
tag id hashes its *canonical* form (:func:`uri_canonical`). Both follow the
rules of Perl's ``URI`` 5.x for the schemes a project URI realistically uses;
exotic schemes get the generic rules (lower-case scheme, normalised escapes).
"""

from __future__ import annotations

import re

# RFC 2396 character classes as Perl's URI module defines them (URI 5.11+:
# square brackets are not "reserved" but are kept in the host part).
_RESERVED = ";/?:@&=+$,"
_MARK = "-_.!~*'()"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + _MARK)
_URIC = frozenset(_RESERVED) | _UNRESERVED | {"%"}
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9.+\-]*):", re.S)
_ESCAPE_RE = re.compile(r"%([0-9a-fA-F]{2})")

# Schemes implemented by a URI::_server subclass, with their default port
# (None: the class has no default port, only the host is normalised).
_SERVER_SCHEMES: dict[str, int | None] = {
    "cassandra": 9160,
    "cockroach": 26257,
    "cockroachdb": 26257,
    "couch": 5984,
    "couchdb": 5984,
    "cubrid": 33000,
    "db2": 50000,
    "derby": 1527,
    "exasol": 8563,
    "firebird": 3050,
    "ftp": 21,
    "gopher": 70,
    "hive": 10000,
    "http": 80,
    "https": 443,
    "impala": 21000,
    "informix": 1526,
    "ingres": 1524,
    "interbase": 3050,
    "ldap": 389,
    "ldapdb": None,
    "ldaps": 636,
    "maria": 3306,
    "mariadb": 3306,
    "max": 7673,
    "maxdb": 7673,
    "mms": 1755,
    "monet": 50000,
    "monetdb": 50000,
    "mongo": 27017,
    "mongodb": 27017,
    "mssql": 1433,
    "mysql": 3306,
    "news": 119,
    "nntp": 119,
    "nntps": 563,
    "oracle": 1521,
    "pg": 5432,
    "pgsql": 5432,
    "pgxc": 5432,
    "pop": 110,
    "postgres": 5432,
    "postgresql": 5432,
    "postgresxc": 5432,
    "redshift": 5432,
    "rlogin": 513,
    "rsync": 873,
    "rtsp": 554,
    "rtspu": 554,
    "sftp": 22,
    "sip": 5060,
    "sips": 5061,
    "snews": 563,
    "snowflake": 443,
    "sqlite": None,
    "sqlite3": None,
    "sqlserver": 1433,
    "ssh": 22,
    "sybase": 2638,
    "telnet": 23,
    "teradata": 1025,
    "tn3270": 23,
    "unify": 27117,
    "vertica": 5433,
    "yugabyte": 5433,
    "yugabytedb": 5433,
}
_NO_HOST_PART = ("data", "ldapi", "urn", "sqlite", "sqlite3")


def _escape_char(ch: str) -> str:
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8"))


def uri_as_string(value: str) -> str:
    """What ``URI->new($value)->as_string`` gives: the form stored in ``projects.uri``."""
    text = value
    m = re.fullmatch(r"<(?:URL:)?(.*)>", text, re.S)
    if m:
        text = m.group(1)
    m = re.fullmatch(r'"(.*)"', text, re.S)
    if m:
        text = m.group(1)
    text = re.sub(r"^\s+", "", text)
    text = re.sub(r"\s+$", "", text)
    escaped = "".join(ch if ch in _URIC or ch == "#" else _escape_char(ch) for ch in text)
    return _restore_host_brackets(escaped)


def _restore_host_brackets(text: str) -> str:
    # URI 5.11+ escapes [ and ] everywhere, then puts them back in the host part.
    if "%" not in text:
        return text
    if re.match(rf"^(?:{'|'.join(_NO_HOST_PART)}):", text):
        return text
    if text.startswith("mailto:"):
        return re.sub("%5[Bb]", "[", re.sub("%5[Dd]", "]", text))
    m = re.match(r"^((?:[a-zA-Z][a-zA-Z0-9.+\-]*:)?)//([^/?#]+)(.*)$", text, re.S)
    if not m:
        return text
    orig = m.group(2)
    um = re.match(r"^(.*@)?([^@]*)$", orig, re.S)
    if um is None:  # pragma: no cover - the pattern always matches
        return text
    user = um.group(1) or ""
    host = um.group(2)
    pm = re.search(r"(:\d+)$", host)
    port = ""
    if pm:
        port = pm.group(1)
        host = host[: pm.start()]
    host = re.sub("%5[Bb]", "[", re.sub("%5[Dd]", "]", host))
    return text.replace(orig, user + host + port, 1)


def _fix_escapes(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    return _ESCAPE_RE.sub(repl, text)


def _lower_host(host: str) -> str:
    # Lower-case ASCII letters but keep %XX escapes as they are (upper-case).
    out: list[str] = []
    i = 0
    while i < len(host):
        if host[i] == "%" and re.match(r"%[0-9A-Fa-f]{2}", host[i : i + 3]):
            out.append(host[i : i + 3].upper())
            i += 3
            continue
        ch = host[i]
        out.append(ch.lower() if "A" <= ch <= "Z" else ch)
        i += 1
    return "".join(out)


def uri_canonical(value: str) -> str:
    """What ``URI->new($value)->canonical`` gives: the form hashed into ids."""
    text = uri_as_string(value)
    sm = _SCHEME_RE.match(text)
    scheme = sm.group(1).lower() if sm else ""
    if sm:
        text = scheme + text[len(sm.group(1)) :]
    if "%" in text:
        text = _fix_escapes(text)
    if scheme in _SERVER_SCHEMES:
        text = _canonical_server(text, scheme, _SERVER_SCHEMES[scheme])
    elif scheme == "urn":
        nm = re.match(r"^urn:([^:]*)(.*)$", text, re.S)
        if nm and re.search("[A-Z]", nm.group(1)) and "%" not in nm.group(1):
            text = "urn:" + nm.group(1).lower() + nm.group(2)
    return text


def _canonical_server(text: str, scheme: str, default_port: int | None) -> str:
    m = re.match(r"^([^:]+:)//([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$", text, re.S)
    if not m:
        return text
    prefix, authority, path, query, fragment = m.groups()
    um = re.match(r"^(.*@)?(.*)$", authority, re.S)
    assert um is not None
    userinfo = um.group(1) or ""
    hostport = um.group(2)
    pm = re.search(r":(\d*)$", hostport)
    host, port = (hostport[: pm.start()], pm.group(1)) if pm else (hostport, None)
    if re.search("[A-Z]", host):
        host = _lower_host(host)
    if port is not None and (
        port == "" or (default_port is not None and int(port) == default_port)
    ):
        port = None
    authority = userinfo + host + (f":{port}" if port is not None else "")
    if scheme in ("http", "https") and path == "" and query is None:
        path = "/"
    return f"{prefix}//{authority}{path}{query or ''}{fragment or ''}"
