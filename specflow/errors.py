"""One exception hierarchy; cli.run() turns it into a message and an exit code.

Exit codes: 0 success, 1 a check failed, 2 usage/config/state error,
3 provider or network error, 130 interrupted.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_PROVIDER = 3
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
