"""Where the packaged templates/ and rules/ live, installed or in a source checkout.

Plain os.path inside: `specflow check` reads templates through here and never needs pathlib.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_PACKAGE = os.path.dirname(os.path.realpath(__file__))


def packaged_folder(kind: str) -> str:
    """specflow/_data/<kind> inside an installed wheel, else <checkout>/<kind>."""
    installed = os.path.join(_PACKAGE, "_data", kind)
    if os.path.isdir(installed):
        return installed
    checkout = os.path.join(os.path.dirname(_PACKAGE), kind)
    if os.path.isdir(checkout):
        return checkout
    raise FileNotFoundError(
        f"specflow's packaged {kind}/ folder is missing (looked in {installed} and {checkout}); "
        "reinstall specflow"
    )


def data_file(name: str) -> Path:
    """A data file shipped inside the package itself (specflow/data/)."""
    from pathlib import Path

    return Path(_PACKAGE, "data", name)
