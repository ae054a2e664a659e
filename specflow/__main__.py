"""Entry point for ``python -m specflow`` and the ``specflow`` console script."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["check"]:
        # The one hot command: its plain form runs without importing click.
        from specflow.checking import fast_check

        code = fast_check(sys.argv[2:])
        if code is not None:
            sys.exit(code)
    from specflow.cli import run

    sys.exit(run())


if __name__ == "__main__":
    main()
