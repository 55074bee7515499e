"""Exceptions raised by the Sqitch-compatible deployer.

Every failure is a :class:`SqitchError` whose message is one line a user can
act on. The command line prints it as ``zkeb-db <command>: <message>``.
"""

from __future__ import annotations


class SqitchError(Exception):
    """Base class: a deploy, revert, verify or plan operation failed."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PlanError(SqitchError):
    """The plan file is malformed; ``line`` is the 1-based line number when known."""

    exit_code = 2

    def __init__(self, message: str, *, file: str = "sqitch.plan", line: int | None = None) -> None:
        self.file = file
        self.line = line
        self.reason = message
        if line is None:
            text = f"Syntax error in {file}: {message}"
        else:
            text = f"Syntax error in {file} at line {line}: {message}"
        super().__init__(text)


class ConfigError(SqitchError):
    """sqitch.conf, the target or the command line options are unusable."""

    exit_code = 2


class NotFoundError(SqitchError):
    """A change, tag or id given on the command line cannot be found."""


class RegistryError(SqitchError):
    """The registry is missing, of another version, or disagrees with the plan."""


class DependencyError(SqitchError):
    """A requirement is missing or a conflicting change is deployed."""


class ScriptError(SqitchError):
    """A deploy, revert or verify script failed under psql."""

    def __init__(self, message: str, *, script: str, output: str = "") -> None:
        super().__init__(message)
        self.script = script
        self.output = output


class DeployError(SqitchError):
    """A deploy failed (the registry records a ``fail`` event)."""


class RevertError(SqitchError):
    """A revert failed or was refused."""


class VerifyError(SqitchError):
    """Verification found problems."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class LockError(SqitchError):
    """Another deployer holds the Sqitch advisory lock for too long."""
