"""One exception hierarchy; failure_exit() turns it into a message and an exit code.

Exit codes: 0 success, 1 a check failed, 2 usage/config/state error,
3 provider or network error, 70 a bug in specflow, 130 interrupted.
"""

from __future__ import annotations

import os
import sys

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_PROVIDER = 3
EXIT_BUG = 70
EXIT_INTERRUPTED = 130


class SpecflowError(Exception):
    """An expected failure: the message says what, where, and what to do next."""

    exit_code = EXIT_USAGE


class UsageError(SpecflowError):
    """Bad arguments or input from the user."""


class ConfigError(SpecflowError):
    """.specflow/config.toml (or an override) is invalid."""


class StateError(SpecflowError):
    """The task is not in a state that allows the command, or its files are corrupt."""


class CheckFailed(SpecflowError):
    """A contract check or the review gate failed."""

    exit_code = EXIT_CHECK_FAILED


class ProviderError(SpecflowError):
    """The model provider could not be reached or refused the request."""

    exit_code = EXIT_PROVIDER


class ProviderUnreachable(ProviderError):
    """Connection errors and timeouts: the review gate may fail open on these."""


def failure_exit(exc: BaseException) -> int:
    """Say on stderr what went wrong and return the exit code.

    specflow's own errors print their message; an interrupt prints `interrupted`; a reader
    that went away (`specflow status | head`) is not an error; anything else is a bug: its
    report (versions, platform, traceback) goes to a file whose path is printed.
    """
    if isinstance(exc, SpecflowError):
        _say(f"error: {exc}")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        _say("interrupted")
        return EXIT_INTERRUPTED
    if isinstance(exc, BrokenPipeError):
        silence_stdout()
        return EXIT_OK
    from specflow import __version__

    where = write_bug_report(exc)
    if where is None:  # no folder to write to: the traceback goes to stderr instead
        _say(_traceback(exc))
        where = "the traceback above"
    _say(
        f"specflow {__version__}: unexpected error (a bug): {type(exc).__name__}: {exc}\n"
        f"Please report it with {where}."
    )
    return EXIT_BUG


# The distributions whose versions a bug report names (read from metadata, not imported).
_REPORTED = ("anthropic", "openai", "pydantic", "click", "jinja2", "GitPython", "pyromark")


def bug_report(exc: BaseException) -> str:
    """The text of a bug report: versions, platform and the traceback (no environment)."""
    import platform
    from importlib import metadata

    from specflow import __version__

    lines = [
        "# specflow bug report",
        "",
        f"specflow: {__version__}",
        f"python: {sys.version.split()[0]} ({sys.executable})",
        f"platform: {platform.platform()}",
    ]
    for name in _REPORTED:
        try:
            lines.append(f"{name}: {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            lines.append(f"{name}: not installed")
    lines += ["", "## traceback", "", "```", _traceback(exc).rstrip(), "```", ""]
    return "\n".join(lines)


def write_bug_report(exc: BaseException, folder: str | None = None) -> str | None:
    """Write bug_report(exc) to a new file in *folder* (default: the system temp folder) and
    return its path; None when it cannot be written."""
    import tempfile

    try:
        handle, path = tempfile.mkstemp(prefix="specflow-bug-", suffix=".md", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(bug_report(exc))
    except OSError:
        return None
    return path


def _traceback(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(exc))


def _say(message: str) -> None:
    if sys.stderr is not None:  # None: stderr was closed (`2>&-`)
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # no file descriptor behind it (closed, or an in-memory stream)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
