"""``sqitch log`` / ``sqitch plan`` output formats (a subset of Sqitch's ItemFormatter).

Items are dicts with the keys ``event``, ``change_id``, ``change``, ``project``,
``note``, ``requires``, ``conflicts``, ``tags``, ``planner_name``,
``planner_email``, ``planned_at`` and, for log events, ``committer_name``,
``committer_email``, ``committed_at``. Colours (``%{...}C``) are accepted and
ignored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from zkeb_db.sqitch.errors import ConfigError

_LABELS = {
    "event": "Event:    ",
    "change": "Change:   ",
    "committer": "Committer:",
    "planner": "Planner:  ",
    "by": "By:       ",
    "date": "Date:     ",
    "committed": "Committed:",
    "planned": "Planned:  ",
    "name": "Name:     ",
    "project": "Project:  ",
    "email": "Email:    ",
    "requires": "Requires: ",
    "conflicts": "Conflicts:",
}

LOG_FORMATS = {
    "raw": (
        "%e %H%T\nname      %n\nproject   %o\n%{requires}a%{conflicts}a"
        "planner   %{name}p <%{email}p>\nplanned   %{date:raw}p\n"
        "committer %{name}c <%{email}c>\ncommitted %{date:raw}c\n\n%{    }B\n"
    ),
    "full": (
        "%L %h%T\n%{name}_ %n\n%{project}_ %o\n%R%X%{planner}_ %p\n%{planned}_ %{date}p\n"
        "%{committer}_ %c\n%{committed}_ %{date}c\n\n%{    }B\n"
    ),
    "long": "%L %h%T\n%{name}_ %n\n%{project}_ %o\n%{planner}_ %p\n%{committer}_ %c\n\n%{    }B\n",
    "medium": "%L %h\n%{name}_ %n\n%{committer}_ %c\n%{date}_ %{date}c\n\n%{    }B\n",
    "short": "%L %h\n%{name}_ %n\n%{committer}_ %c\n\n%{    }s\n",
    "oneline": "%h %l %o:%n %s",
}

PLAN_FORMATS = {
    "raw": (
        "%e %H%T\nname      %n\nproject   %o\n%{requires}a%{conflicts}a"
        "planner   %{name}p <%{email}p>\nplanned   %{date:raw}p\n\n%{    }B\n"
    ),
    "full": (
        "%L %h%T\n%{name}_ %n\n%{project}_ %o\n%R%X%{planner}_ %p\n%{planned}_ %{date}p\n"
        "\n%{    }B\n"
    ),
    "long": "%L %h%T\n%{name}_ %n\n%{project}_ %o\n%{planner}_ %p\n\n%{    }B\n",
    "medium": "%L %h\n%{name}_ %n\n%{planner}_ %p\n%{date}_ %{date}p\n\n%{    }B\n",
    "short": "%L %h\n%{name}_ %n\n%{planner}_ %p\n\n%{    }s\n",
    "oneline": "%h %l %n%t",
}


def resolve_format(name: str, builtin: dict[str, str]) -> str:
    if name.startswith("format:"):
        return name[len("format:") :]
    if name in builtin:
        return builtin[name]
    raise ConfigError(f'Unknown format "{name}" (use {", ".join(builtin)} or format:...)')


def format_date(value: datetime, fmt: str) -> str:
    if fmt == "raw":
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    local = value.astimezone()
    if fmt in ("iso", "iso8601"):
        return local.strftime("%Y-%m-%d %H:%M:%S %z")
    if fmt in ("rfc", "rfc2822"):
        text = local.strftime("%a, %d %b %Y %H:%M:%S %z")
        return text[:-5] + "-0000" if text.endswith("+0000") else text
    if fmt.startswith("strftime:"):
        return local.strftime(fmt[len("strftime:") :])
    if fmt in ("full", "long", "medium", "short"):
        return local.strftime(
            {
                "full": "%A, %B %d, %Y at %H:%M:%S %Z",
                "long": "%B %d, %Y at %H:%M:%S %Z",
                "medium": "%b %d, %Y, %H:%M:%S",
                "short": "%m/%d/%y, %H:%M",
            }[fmt]
        )
    raise ConfigError(f'Unknown date format "{fmt}"')


_CODE_RE = re.compile(r"%(?:\{([^}]*)\})?(.)")
_VERTICAL = re.compile(r"[\n\x0b\x0c\r\x85\u2028\u2029]")


def format_item(fmt: str, item: dict[str, Any], *, date_format: str = "iso") -> str:
    def person(prefix: str, arg: str | None) -> str:
        name, email = item[f"{prefix}_name"], item[f"{prefix}_email"]
        when: datetime = item["planned_at" if prefix == "planner" else "committed_at"]
        if arg is None:
            return f"{name} <{email}>"
        if arg in ("n", "name"):
            return str(name)
        if arg in ("e", "email"):
            return str(email)
        m = re.match(r"^d(?:ate)?(?::|$)(.*)$", arg)
        if m:
            return format_date(when, m.group(1) or date_format)
        return ""

    def listing(key: str, arg: str | None, prefix: str = " ") -> str:
        values = item.get(key) or []
        return prefix + (arg or ", ").join(values) if values else ""

    def repl(m: re.Match[str]) -> str:
        arg, code = m.group(1), m.group(2)
        event = str(item.get("event", "deploy"))
        note = str(item.get("note") or "")
        if code == "%":
            return "%"
        if code == "e":
            return event
        if code == "L":
            return event.capitalize()
        if code == "l":
            return event
        if code == "_":
            if arg not in _LABELS:
                raise ConfigError(f'Unknown label "{arg}" passed to the _ format')
            return _LABELS[arg]
        if code == "H":
            return str(item["change_id"])
        if code == "h":
            cid = str(item["change_id"])
            return cid[: int(arg)] if arg and arg.isdigit() else cid
        if code == "n":
            return str(item["change"])
        if code == "o":
            return str(item["project"])
        if code == "c":
            return person("committer", arg)
        if code == "p":
            return person("planner", arg)
        if code == "t":
            return listing("tags", arg)
        if code == "T":
            tags = item.get("tags") or []
            return " (" + (arg or ", ").join(tags) + ")" if tags else ""
        if code == "v":
            return "\n"
        if code == "C":
            return ""
        if code == "s":
            return (arg or "") + _VERTICAL.split(note, 1)[0]
        if code == "b":
            if not _VERTICAL.search(note):
                return ""
            body = re.sub(r"^.+?[\n\x0b\x0c\r\x85\u2028\u2029]+", "", note, count=1, flags=re.S)
            return re.sub(r"(?m)^", arg, body) if arg and body else body
        if code == "B":
            return re.sub(r"(?m)^", arg, note) if arg is not None else note
        if code == "r":
            return listing("requires", arg)
        if code == "R":
            reqs = item.get("requires") or []
            return "Requires:  " + (arg or ", ").join(reqs) + "\n" if reqs else ""
        if code == "x":
            return listing("conflicts", arg)
        if code == "X":
            confs = item.get("conflicts") or []
            return "Conflicts: " + (arg or ", ").join(confs) + "\n" if confs else ""
        if code == "a":
            if not arg or arg not in item:
                raise ConfigError(f"{arg} is not a valid change attribute")
            val = item[arg]
            if val is None:
                return ""
            if isinstance(val, list):
                if not val:
                    return ""
                text = ", ".join(str(v) for v in val)
            elif isinstance(val, datetime):
                text = format_date(val, "raw")
            else:
                text = str(val)
            return f"{arg}{' ' * max(9 - len(arg), 0)} {text}\n"
        raise ConfigError(f'Unknown format code "{code}"')

    return _CODE_RE.sub(repl, fmt)
