"""hooks: installing, chaining and removing the pre-commit hook, run by real `git commit`s.

The installed hook runs `"<python>" -m specflow review --staged`, or `specflow` on PATH when
that interpreter is gone. These tests install with a `python` that does not exist and put a
fake `specflow` first on PATH: it logs its arguments and exits with $FAKE_SPECFLOW_EXIT.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from specflow.errors import UsageError
from specflow.gitx.hooks import (
    CHAINED_NAME,
    MARKER,
    hook_script,
    install_hook,
    is_specflow_hook,
    uninstall_hook,
)
from tests.conftest import git

REPO_ROOT = Path(__file__).resolve().parent.parent
FOREIGN = '#!/bin/sh\necho "foreign $*" >> "$HOOK_LOG"\nexit ${FOREIGN_EXIT:-0}\n'


@pytest.fixture
def hook_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake `specflow` first on PATH; what it and foreign hooks ran goes to the returned log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "specflow"
    fake.write_text('#!/bin/sh\necho "specflow $*" >> "$HOOK_LOG"\nexit ${FAKE_SPECFLOW_EXIT:-0}\n')
    fake.chmod(0o755)
    log = tmp_path / "hook.log"
    log.write_text("")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("HOOK_LOG", str(log))
    return log


def missing_python(tmp_path: Path) -> str:
    return str(tmp_path / "gone" / "bin" / "python")


def hook_path(repo: Path) -> Path:
    return repo / ".git" / "hooks" / "pre-commit"


def chained_path(repo: Path) -> Path:
    return repo / ".git" / "hooks" / CHAINED_NAME


def write_foreign_hook(repo: Path, text: str = FOREIGN) -> Path:
    hook = hook_path(repo)
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(text)
    hook.chmod(0o755)
    return hook


def commit(repo: Path) -> subprocess.CompletedProcess[str]:
    (repo / "change.txt").write_text(f"{os.urandom(4).hex()}\n")
    git(repo, "add", "change.txt")
    return subprocess.run(
        ["git", "commit", "-qm", "change"], cwd=repo, capture_output=True, text=True
    )


# --------------------------------------------------------------------------------------------
# Install


def test_a_fresh_install_writes_an_executable_marked_hook(repo: Path) -> None:
    message = install_hook(repo)
    hook = hook_path(repo)
    assert message == f"installed the specflow review hook at {hook}"
    assert os.access(hook, os.X_OK)
    text = hook.read_text()
    assert text.startswith(f"#!/bin/sh\n{MARKER}\n")
    assert f"python={shlex.quote(sys.executable)}\n" in text
    assert 'exec "$python" -m specflow review --staged\n' in text
    assert is_specflow_hook(hook)


def test_the_interpreter_path_is_quoted_for_the_shell() -> None:
    odd = "/opt/my tools/py's $HOME/python"
    (line,) = [line for line in hook_script(odd).splitlines() if line.startswith("python=")]
    shell = subprocess.run(
        ["/bin/sh", "-c", f'{line}; printf %s "$python"'], capture_output=True, text=True
    )
    assert shell.stdout == odd


def test_installing_twice_is_a_no_op_and_force_rewrites(repo: Path, tmp_path: Path) -> None:
    install_hook(repo)
    hook = hook_path(repo)
    assert install_hook(repo) == f"the specflow review hook is already installed at {hook}"
    assert install_hook(repo, force=True, python=missing_python(tmp_path)) == (
        f"rewrote the specflow review hook at {hook}"
    )
    assert shlex.quote(missing_python(tmp_path)) in hook.read_text()
    assert not chained_path(repo).exists()


def test_the_hook_goes_where_core_hooks_path_says(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", "githooks")
    message = install_hook(repo)
    assert message == f"installed the specflow review hook at {repo / 'githooks' / 'pre-commit'}"
    assert is_specflow_hook(repo / "githooks" / "pre-commit")


def test_the_hook_runs_specflow_on_commit_and_blocks_when_it_fails(
    repo: Path, tmp_path: Path, hook_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_hook(repo, python=missing_python(tmp_path))
    assert commit(repo).returncode == 0
    assert hook_log.read_text() == "specflow review --staged\n"
    monkeypatch.setenv("FAKE_SPECFLOW_EXIT", "1")
    assert commit(repo).returncode != 0
    assert git(repo, "log", "--format=%s").splitlines() == ["change", "initial"]


def test_a_foreign_hook_is_chained_and_runs_first(
    repo: Path, tmp_path: Path, hook_log: Path
) -> None:
    write_foreign_hook(repo)
    message = install_hook(repo, python=missing_python(tmp_path))
    assert message == (
        f"moved the existing pre-commit hook to {chained_path(repo)}; "
        f"installed the specflow review hook at {hook_path(repo)}, which runs it first"
    )
    assert chained_path(repo).read_text() == FOREIGN
    assert commit(repo).returncode == 0
    assert hook_log.read_text() == "foreign \nspecflow review --staged\n"


def test_a_failing_foreign_hook_stops_the_commit_before_the_review(
    repo: Path, tmp_path: Path, hook_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_foreign_hook(repo)
    install_hook(repo, python=missing_python(tmp_path))
    monkeypatch.setenv("FOREIGN_EXIT", "3")
    assert commit(repo).returncode != 0
    assert hook_log.read_text() == "foreign \n"


def test_the_chained_hook_gets_the_arguments_and_stdin(
    repo: Path, tmp_path: Path, hook_log: Path
) -> None:
    write_foreign_hook(repo, '#!/bin/sh\necho "foreign $* $(cat)" >> "$HOOK_LOG"\n')
    install_hook(repo, python=missing_python(tmp_path))
    done = subprocess.run(
        [str(hook_path(repo)), "one", "two"], cwd=repo, input="from stdin", text=True
    )
    assert done.returncode == 0
    assert hook_log.read_text() == "foreign one two from stdin\nspecflow review --staged\n"


def test_a_non_executable_foreign_hook_stays_unrun_and_the_user_is_told(
    repo: Path, tmp_path: Path, hook_log: Path
) -> None:
    write_foreign_hook(repo).chmod(0o644)
    message = install_hook(repo, python=missing_python(tmp_path))
    assert message.endswith(
        f"\n{chained_path(repo)} is not executable: git was not running it, and specflow won't"
    )
    assert commit(repo).returncode == 0
    assert hook_log.read_text() == "specflow review --staged\n"


def test_a_taken_chained_name_is_refused_without_force(repo: Path) -> None:
    write_foreign_hook(repo)
    chained_path(repo).write_text("#!/bin/sh\n# an older chained hook\n")
    with pytest.raises(UsageError) as caught:
        install_hook(repo)
    assert str(caught.value) == (
        f"{hook_path(repo)} is not specflow's hook and {chained_path(repo)} already exists, so "
        "the current hook cannot be kept there; move one of them away, or install with --force "
        f"to keep {CHAINED_NAME} under a backup name"
    )
    assert hook_path(repo).read_text() == FOREIGN


def test_force_keeps_the_taken_chained_hook_under_a_backup_name(repo: Path) -> None:
    write_foreign_hook(repo)
    chained_path(repo).write_text("older\n")
    backup = chained_path(repo).with_name(f"{CHAINED_NAME}.bak")
    backup.write_text("even older\n")
    message = install_hook(repo, force=True)
    second_backup = chained_path(repo).with_name(f"{CHAINED_NAME}.bak2")
    assert message.splitlines()[0] == f"kept the previous {CHAINED_NAME} as {second_backup}"
    assert (backup.read_text(), second_backup.read_text()) == ("even older\n", "older\n")
    assert chained_path(repo).read_text() == FOREIGN


def test_the_hook_explains_itself_when_specflow_cannot_be_found(repo: Path, tmp_path: Path) -> None:
    install_hook(repo, python=missing_python(tmp_path))
    done = subprocess.run(
        ["/bin/sh", str(hook_path(repo))],
        cwd=repo,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"specflow hook: neither {missing_python(tmp_path)} nor a specflow command on PATH was "
        "found.\nReinstall specflow and run 'specflow hook install --force', or skip the review "
        "once\nwith 'git commit --no-verify'.\n"
    )


# --------------------------------------------------------------------------------------------
# Uninstall


def test_uninstall_removes_the_hook(repo: Path) -> None:
    install_hook(repo)
    assert uninstall_hook(repo) == f"removed the specflow review hook from {hook_path(repo)}"
    assert not hook_path(repo).exists()


def test_uninstall_restores_the_chained_original(repo: Path) -> None:
    write_foreign_hook(repo)
    install_hook(repo)
    assert uninstall_hook(repo) == (
        f"removed the specflow review hook from {hook_path(repo)}; "
        f"restored the original hook from {chained_path(repo)}"
    )
    assert hook_path(repo).read_text() == FOREIGN
    assert os.access(hook_path(repo), os.X_OK)
    assert not chained_path(repo).exists()


def test_uninstall_leaves_a_foreign_hook_alone(repo: Path) -> None:
    write_foreign_hook(repo)
    assert uninstall_hook(repo) == (
        f"specflow's hook is not installed ({hook_path(repo)} is another hook, left in place); "
        "nothing to uninstall"
    )
    assert hook_path(repo).read_text() == FOREIGN


def test_uninstall_twice_after_chaining(repo: Path) -> None:
    write_foreign_hook(repo)
    install_hook(repo)
    assert "restored the original hook" in uninstall_hook(repo)
    assert "nothing to uninstall" in uninstall_hook(repo)
    assert hook_path(repo).read_text() == FOREIGN


def test_uninstall_refuses_a_foreign_hook_with_a_chained_one(repo: Path) -> None:
    write_foreign_hook(repo)
    chained_path(repo).write_text(FOREIGN)
    with pytest.raises(UsageError) as caught:
        uninstall_hook(repo)
    assert str(caught.value) == (
        f"{hook_path(repo)} is not specflow's hook (it has no `{MARKER}` line), so it was left "
        "in place; remove it yourself if you no longer want it"
    )
    assert hook_path(repo).read_text() == FOREIGN


def test_uninstall_without_a_hook_says_so(repo: Path) -> None:
    assert uninstall_hook(repo) == f"no pre-commit hook at {hook_path(repo)}; nothing to uninstall"


# --------------------------------------------------------------------------------------------
# The pre-commit framework's manifest


def test_the_pre_commit_manifest_is_valid_and_always_reviews_the_whole_change() -> None:
    from pre_commit.clientlib import load_manifest

    path = REPO_ROOT / ".pre-commit-hooks.yaml"
    (hook,) = load_manifest(str(path))
    assert hook["id"] == "specflow-review"
    assert hook["entry"] == "specflow review --staged"
    assert (hook["language"], hook["pass_filenames"], hook["require_serial"]) == (
        "python",
        False,
        True,
    )
    assert hook["always_run"] is True
    (raw,) = yaml.safe_load(path.read_text())
    assert raw["name"] and raw["description"]
