"""Entry point for ``python -m specflow`` and the ``specflow`` console script."""

from __future__ import annotations

import sys


def main() -> None:
    from specflow.cli import run

    sys.exit(run())


if __name__ == "__main__":
    main()
