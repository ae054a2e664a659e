"""Where the packaged templates/ and rules/ live, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def packaged_dir(kind: str) -> Path:
    """specflow/_data/<kind> inside an installed wheel, else <checkout>/<kind>."""
    installed = _PACKAGE / "_data" / kind
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / kind
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"specflow's packaged {kind}/ folder is missing (looked in {installed} and {checkout}); "
        "reinstall specflow"
    )


def data_file(name: str) -> Path:
    """A data file shipped inside the package itself (specflow/data/)."""
    return _PACKAGE / "data" / name
