"""Moved to tests.support.fakes.openai_server; this alias keeps older imports working."""

from tests.support.fakes.openai_server import *  # noqa: F403
