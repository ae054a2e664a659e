"""Install and remove specflow's git pre-commit hook, keeping any hook that was there before.

The hook is a POSIX sh script at `<hooks dir>/pre-commit` (the hooks dir honours
core.hooksPath), marked with the line `# specflow-review-hook` so specflow recognises its
own. It runs `specflow review --staged`, found this way:

1. the Python interpreter that installed the hook, as `"<python>" -m specflow`: an absolute
   path works under any PATH (GUI git clients and IDEs often run hooks with a minimal one)
   and always reaches the specflow the user set up, even inside a virtualenv that is not
   active when they commit;
2. `specflow` on PATH, when that interpreter is gone (the virtualenv was deleted or
   rebuilt somewhere else).

If the interpreter is still there but specflow was uninstalled from it, Python's "No module
named specflow" stops the commit; `specflow hook install --force` from the new install
points the hook at it again. Tests (and wrappers) can install with a `python` that does not
exist, so the hook runs whatever `specflow` comes first on PATH.

A hook that is not specflow's is never replaced silently: it is moved to
`pre-commit.specflow-chained`, and specflow's hook runs it first with the same arguments
and stdin, stopping the commit if it fails. Uninstalling puts it back.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from pathlib import Path

from specflow.errors import UsageError
from specflow.gitx.gitops import hooks_dir
from specflow.store.fsutil import atomic_write_text

MARKER = "# specflow-review-hook"
HOOK_NAME = "pre-commit"
CHAINED_NAME = "pre-commit.specflow-chained"

_SCRIPT = """\
#!/bin/sh
{marker}
# The specflow review gate: reviews the staged change before each commit.
# Installed by `specflow hook install`; remove it with `specflow hook uninstall`.
# Skip it once with `git commit --no-verify`.

# A pre-commit hook that was here before specflow's runs first; its failure stops the commit.
chained="$(dirname "$0")/{chained}"
if [ -x "$chained" ]; then
    "$chained" "$@" || exit $?
fi

# The interpreter that installed this hook, else `specflow` on PATH.
python={python}
if [ -x "$python" ]; then
    exec "$python" -m specflow review --staged
fi
if command -v specflow >/dev/null 2>&1; then
    exec specflow review --staged
fi
echo "specflow hook: neither $python nor a specflow command on PATH was found." >&2
echo "Reinstall specflow and run 'specflow hook install --force', or skip the review once" >&2
echo "with 'git commit --no-verify'." >&2
exit 1
"""


def hook_script(python: str | None = None) -> str:
    """The hook's text, running specflow through *python* (default: this interpreter)."""
    interpreter = python if python is not None else sys.executable
    return _SCRIPT.format(marker=MARKER, chained=CHAINED_NAME, python=shlex.quote(interpreter))


def is_specflow_hook(path: Path) -> bool:
    """Whether the file at *path* is a hook specflow wrote (it carries the marker line)."""
    try:
        content = path.read_bytes()
    except OSError:
        return False
    return MARKER.encode() in content.splitlines()


def install_hook(root: Path, force: bool = False, python: str | None = None) -> str:
    """Install the review hook in the repository at *root*; return what was done.

    Installing again is a no-op unless *force*, which rewrites specflow's hook. A foreign
    hook is moved to `pre-commit.specflow-chained` and run first; if that name is taken,
    this refuses unless *force*, which keeps the old chained hook under a backup name.
    *python* overrides the interpreter the hook runs specflow with (see the module doc).
    """
    folder = hooks_dir(root)
    hook, chained = folder / HOOK_NAME, folder / CHAINED_NAME
    script = hook_script(python)
    if is_specflow_hook(hook):
        if not force:
            return f"the specflow review hook is already installed at {hook}"
        atomic_write_text(hook, script, mode=0o755)
        return f"rewrote the specflow review hook at {hook}"
    if not (hook.exists() or hook.is_symlink()):
        atomic_write_text(hook, script, mode=0o755)
        return f"installed the specflow review hook at {hook}"
    done = [_make_room(chained, hook, force)]
    os.replace(hook, chained)
    atomic_write_text(hook, script, mode=0o755)
    done.append(
        f"moved the existing pre-commit hook to {chained}; "
        f"installed the specflow review hook at {hook}, which runs it first"
    )
    if not _is_executable(chained):
        done.append(f"{chained} is not executable: git was not running it, and specflow won't")
    return "\n".join(line for line in done if line)


def uninstall_hook(root: Path) -> str:
    """Remove specflow's hook and put back the hook it chained; return what was done."""
    folder = hooks_dir(root)
    hook, chained = folder / HOOK_NAME, folder / CHAINED_NAME
    if hook.exists() or hook.is_symlink():
        if not is_specflow_hook(hook) and not (chained.exists() or chained.is_symlink()):
            return (
                f"specflow's hook is not installed ({hook} is another hook, left in place); "
                "nothing to uninstall"
            )
        if not is_specflow_hook(hook):
            raise UsageError(
                f"{hook} is not specflow's hook (it has no `{MARKER}` line), so it was left "
                "in place; remove it yourself if you no longer want it"
            )
        hook.unlink()
        removed = f"removed the specflow review hook from {hook}"
    else:
        removed = f"no pre-commit hook at {hook}"
    if chained.exists() or chained.is_symlink():
        os.replace(chained, hook)
        return f"{removed}; restored the original hook from {chained}"
    if not removed.startswith("removed"):
        return f"{removed}; nothing to uninstall"
    return removed


def _make_room(chained: Path, hook: Path, force: bool) -> str:
    """Free the chained hook's name, backing up what is there only when *force*."""
    if not (chained.exists() or chained.is_symlink()):
        return ""
    if not force:
        raise UsageError(
            f"{hook} is not specflow's hook and {chained} already exists, so the current "
            "hook cannot be kept there; move one of them away, or install with --force to "
            f"keep {chained.name} under a backup name"
        )
    backup = _free_name(chained)
    os.replace(chained, backup)
    return f"kept the previous {chained.name} as {backup}"


def _free_name(path: Path) -> Path:
    candidate = path.with_name(f"{path.name}.bak")
    number = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{path.name}.bak{number}")
        number += 1
    return candidate


def _is_executable(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
