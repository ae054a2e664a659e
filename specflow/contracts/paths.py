"""Which backticked tokens are files, and which paths specflow must never write.

A spec's file plan names repository-relative paths. unsafe_path_reason() is the one test of
a path's safety (absolute, escaping with `..`, inside `.git` or `.specflow` at any depth and
in any letter case), shared by the spec contract and implement's target checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Roots that make a leading `/` a filesystem path rather than a URL path such as `/metrics`.
_SYSTEM_ROOTS = frozenset(
    "etc usr var home tmp opt root bin sbin lib lib64 dev proc sys srv mnt boot Users "
    "Volumes private System Library".split()
)
# Extensions that make `name.ext` a file rather than `Class.method`.
FILE_EXTENSIONS = frozenset(
    """py pyi pyx md rst txt toml yaml yml json jsonc cfg ini conf env lock js mjs cjs ts tsx
    jsx go rs java kt kts c h cc cpp hpp cs rb php sh bash zsh ps1 bat sql html htm css scss
    sass less xml csv tsv proto tf tfvars j2 jinja jinja2 tmpl swift m mm scala vue svelte
    gradle properties mod sum graphql gql dockerfile makefile mk cmake ipynb pem crt key svg
    png jpg jpeg gif ico lua r pl ex exs erl hs ml clj dart zig nim sol""".split()
)
_IDENTIFIER_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?:\(\))?")
_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
_PATH_LIKE = re.compile(r"[^\s`]*(?:/[^\s`]*|\.[A-Za-z0-9]+)")


def unsafe_path_reason(path: str) -> str | None:
    """Why specflow must not plan or write *path*, or None when it is a safe relative path."""
    cleaned = path.strip().replace("\\", "/")
    if cleaned.startswith("/") or _DRIVE.match(path.strip()):
        return "it is an absolute path; use a path relative to the repository root"
    if cleaned.startswith("~"):
        return "it points into a home folder; use a path relative to the repository root"
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if ".." in parts:
        return "it leaves the repository (`..`); use a path inside the repository"
    for part in parts:
        folded = part.casefold()
        if folded == ".git":
            return "it is inside `.git`, which belongs to git; specflow never writes there"
        if folded == ".specflow":
            return "it is inside `.specflow`, which holds specflow's own state"
    return None


def is_url_path(token: str) -> bool:
    """`/metrics`, `/api/v1/jobs`: a leading `/`, no file extension, no system root."""
    if not token.startswith("/") or token.startswith("//"):
        return False
    parts = [p for p in token.split("/") if p]
    if not parts:
        return True
    if parts[0] in _SYSTEM_ROOTS:
        return False
    last = parts[-1]
    return "." not in last or last.rsplit(".", 1)[1].lower() not in FILE_EXTENSIONS


def is_dotted_identifier(token: str) -> bool:
    """`TimestampSigner.unsign`, `os.path.join()`: names code, not a file (`app.py` is a file)."""
    if _IDENTIFIER_DOTTED.fullmatch(token) is None:
        return False
    if token.endswith("()"):
        return True
    return token.rsplit(".", 1)[1].lower() not in FILE_EXTENSIONS


def plan_entry(token: str, exists: Callable[[str], bool] | None = None) -> tuple[bool, str | None]:
    """Whether a backticked *token* of the file plan names a file, and why it may not be
    planned (None when it may).

    A token is a file when it has a `/` or a file extension, or names a file that *exists*;
    a URL (`https://…`), a URL path (`/metrics`), an identifier with a dot
    (`JobCollector.collect`) or a token with spaces is not, unless such a file exists.
    """
    token = token.strip()
    if not token or "://" in token or len(token.split()) > 1:
        return False, None
    found = exists is not None and exists(token)
    if not found and (is_url_path(token) or is_dotted_identifier(token)):
        return False, None
    if not found and _PATH_LIKE.fullmatch(token) is None:
        return False, None
    return True, unsafe_path_reason(token)
