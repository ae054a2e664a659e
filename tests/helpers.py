"""Moved to tests.support.helpers; this alias keeps older imports working."""

from tests.support.helpers import *  # noqa: F403
