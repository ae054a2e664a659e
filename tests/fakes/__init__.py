"""Moved to tests.support.fakes; this alias keeps older imports working."""

from tests.support.fakes import *  # noqa: F403
