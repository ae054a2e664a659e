"""Moved to tests.support.fakes.anthropic_server; this alias keeps older imports working."""

from tests.support.fakes.anthropic_server import *  # noqa: F403
