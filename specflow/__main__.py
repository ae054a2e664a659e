"""Entry point for ``python -m specflow`` and the ``specflow`` console script."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    if sys.argv[1:2] == ["check"]:
        # The one hot command: its plain form runs without importing click, and without the
        # cyclic garbage collector: a check makes tens of thousands of small objects and no
        # cycles (a test holds it to that), and the collector's passes over them cost about a
        # tenth of checking a 2,000-line spec (BENCHMARKS.md).
        gc.disable()
        from specflow.stages.check import fast_check

        code = fast_check(sys.argv[2:])
        if code is not None:
            sys.exit(code)
        gc.enable()
    from specflow.cli import run

    sys.exit(run())


if __name__ == "__main__":
    main()
