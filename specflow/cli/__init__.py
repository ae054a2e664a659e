"""The command line: parse, call the library, print. No logic lives here.

`app.py` holds the click group, the shared options and the one place errors become exit
codes; each other module registers one family of commands on it.
"""

from specflow.cli import agents, gate, stage_commands, tasks, tools  # noqa: F401  (registers)
from specflow.cli.app import cli, run

__all__ = ["cli", "run"]
