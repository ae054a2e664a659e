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
    that went away (`specflow status | head`) is not an error; anything else is a bug, shown
    with its traceback.
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
    import traceback

    from specflow import __version__

    _say("".join(traceback.format_exception(exc)))
    _say(
        f"specflow {__version__}: unexpected error (a bug). Please report it with the "
        "traceback above."
    )
    return EXIT_BUG


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
