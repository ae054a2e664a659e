"""Moved to tests.support.samples; this alias keeps older imports working."""

from tests.support.samples import *  # noqa: F403
