"""sqitch.conf: git-config syntax, read the way Sqitch (Config::GitLike) reads it.

Keys are ``section.subsection.name``: the section and the name are
case-insensitive (stored lower-case), the subsection keeps its case. Variable
names in ``*.variables`` sections keep the case they were written in, because
psql variables are case-sensitive. Files are read system, user, then project;
later values win.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from zkeb_db.sqitch.errors import ConfigError

_SECTION_RE = re.compile(r'^\[\s*([A-Za-z0-9.\-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]')
_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_\-]*)\s*(=)?")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


@dataclass
class Config:
    """Merged configuration: ``values`` maps the normalised key to its last value."""

    values: dict[str, str] = field(default_factory=dict)
    original: dict[str, str] = field(default_factory=dict)  # normalised -> key as written
    files: list[Path] = field(default_factory=list)
    multiple: dict[str, Path] = field(default_factory=dict)  # keys set twice in one file

    def get(self, key: str) -> str | None:
        norm = normalise_key(key)
        if norm in self.multiple:
            # Config::GitLike (and so Sqitch) refuses to pick one.
            raise ConfigError(f"Multiple values for {key} in {self.multiple[norm]}")
        return self.values.get(norm)

    def get_bool(self, key: str) -> bool | None:
        value = self.get(key)
        if value is None:
            return None
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ConfigError(f'Invalid boolean value for {key}: "{value}"')

    def get_section(self, section: str) -> dict[str, str]:
        """Keys directly under ``section`` (no further dots), with their written case."""
        prefix = normalise_key(section + ".x")[:-1]
        out: dict[str, str] = {}
        for key, value in self.values.items():
            if key.startswith(prefix) and "." not in key[len(prefix) :]:
                written = self.original.get(key, key)
                out[written.rsplit(".", 1)[-1]] = value
        return out

    def has_section(self, section: str) -> bool:
        prefix = normalise_key(section + ".x")[:-1]
        return any(k.startswith(prefix) for k in self.values)

    def load_file(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read {path}: {exc}") from exc
        seen: set[str] = set()
        for key, written, value in parse_config(text, str(path)):
            if key in seen:
                self.multiple[key] = path
            else:
                self.multiple.pop(key, None)  # a later file overrides
                seen.add(key)
            self.values[key] = value
            self.original[key] = written
        self.files.append(path)


def normalise_key(key: str) -> str:
    """Lower-case the section and the name; keep the subsection as written."""
    parts = key.split(".")
    if len(parts) < 2:
        return key.lower()
    section, name = parts[0].lower(), parts[-1].lower()
    sub = ".".join(parts[1:-1])
    return f"{section}.{sub}.{name}" if sub else f"{section}.{name}"


def _parse_value(raw: str, where: str) -> str:
    out: list[str] = []
    pending_ws = ""
    in_quotes = False
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            if i + 1 >= len(raw):
                raise ConfigError(f"{where}: dangling backslash")
            nxt = raw[i + 1]
            mapped = {"n": "\n", "t": "\t", "b": "\b", '"': '"', "\\": "\\"}.get(nxt)
            if mapped is None:
                raise ConfigError(f"{where}: invalid escape \\{nxt}")
            out.append(pending_ws + mapped)
            pending_ws = ""
            i += 2
            continue
        if ch == '"':
            in_quotes = not in_quotes
            out.append(pending_ws)
            pending_ws = ""
        elif not in_quotes and ch in "#;":
            break
        elif not in_quotes and ch in " \t":
            if out:
                pending_ws += ch
        else:
            out.append(pending_ws + ch)
            pending_ws = ""
        i += 1
    if in_quotes:
        raise ConfigError(f"{where}: unterminated quoted value")
    return "".join(out)


def parse_config(text: str, source: str = "sqitch.conf") -> list[tuple[str, str, str]]:
    """Return (normalised key, key as written, value) triples in file order."""
    entries: list[tuple[str, str, str]] = []
    section: str | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        lineno = i + 1
        line = lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("["):
            m = _SECTION_RE.match(stripped)
            if not m:
                raise ConfigError(f"{source}:{lineno}: invalid section header: {stripped}")
            name, sub = m.group(1), m.group(2)
            if sub is not None:
                sub = re.sub(r"\\(.)", r"\1", sub)
                section = f"{name.lower()}.{sub}"
            elif "." in name:  # legacy [section.subsection]: subsection lower-cased
                section = name.lower()
            else:
                section = name.lower()
            rest = stripped[m.end() :].strip()
            if not rest or rest[0] in "#;":
                continue
            stripped = rest
        if section is None:
            raise ConfigError(f"{source}:{lineno}: key outside of any section: {stripped}")
        km = _KEY_RE.match(stripped)
        if not km:
            raise ConfigError(f"{source}:{lineno}: invalid line: {stripped}")
        name = km.group(1)
        if km.group(2) is None:
            rest = stripped[km.end() :].strip()
            if rest and rest[0] not in "#;":
                raise ConfigError(f"{source}:{lineno}: invalid line: {stripped}")
            value = "true"
        else:
            raw = stripped[km.end() :]
            while raw.endswith("\\") and not raw.endswith("\\\\") and i < len(lines):
                raw = raw[:-1] + lines[i]
                i += 1
            value = _parse_value(raw.strip(), f"{source}:{lineno}")
        written = f"{section}.{name}"
        entries.append((normalise_key(written), written, value))
    return entries


def load_config(project_dir: Path) -> Config:
    """System, user and project sqitch.conf, honouring SQITCH_*_CONFIG like Sqitch."""
    cfg = Config()
    system = os.environ.get("SQITCH_SYSTEM_CONFIG") or "/etc/sqitch/sqitch.conf"
    cfg.load_file(Path(system))
    user = os.environ.get("SQITCH_USER_CONFIG")
    if user:
        cfg.load_file(Path(user))
    else:
        home = os.path.expanduser("~")
        if home and home != "~":
            cfg.load_file(Path(home) / ".sqitch" / "sqitch.conf")
    local = os.environ.get("SQITCH_CONFIG")
    local_path = Path(local) if local else Path("sqitch.conf")
    if not local_path.is_absolute():
        local_path = project_dir / local_path
    cfg.load_file(local_path)
    return cfg
