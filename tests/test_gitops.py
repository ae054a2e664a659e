"""gitops: git access through GitPython, in real repositories, immune to inherited GIT_* vars."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from specflow.errors import UsageError
from specflow.gitx import gitops
from specflow.gitx.diffs import parse_diff
from specflow.gitx.gitops import (
    clean_git_env,
    files_diff,
    head_content,
    hook_index_file,
    hooks_dir,
    is_tracked_and_modified,
    range_diff,
    repo_root,
    staged_diff,
)
from tests.conftest import git


def statuses(diff: str) -> dict[str, str]:
    return {file.path: file.status for file in parse_diff(diff)}


def test_importing_gitops_does_not_import_gitpython() -> None:
    code = (
        "import sys, specflow.gitx.gitops, specflow.gitx.diffs, specflow.gitx.secrets, "
        "specflow.gitx.hooks; "
        "print(sorted(m for m in sys.modules if m == 'git' or m.startswith('git.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out == "[]\n"


# --------------------------------------------------------------------------------------------
# repo_root


def test_root_from_a_subfolder_and_from_a_file(repo: Path) -> None:
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    (deep / "f.txt").write_text("x\n")
    assert repo_root(deep) == repo
    assert repo_root(deep / "f.txt") == repo


def test_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    with pytest.raises(UsageError) as caught:
        repo_root(outside)
    assert str(caught.value) == (
        "specflow works inside a git repository; run `git init` first "
        f"({outside} is not inside one)"
    )


def test_a_missing_start_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "deeper"
    with pytest.raises(UsageError) as caught:
        repo_root(missing)
    assert (
        str(caught.value) == f"{missing} does not exist; run specflow from inside your repository"
    )


def test_inside_the_git_folder_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError) as caught:
        repo_root(repo / ".git")
    assert str(caught.value).startswith(f"{repo / '.git'} is not inside a git working tree (")
    assert str(caught.value).endswith(
        "run specflow from the repository's working tree, not from .git or a bare repository"
    )


# --------------------------------------------------------------------------------------------
# The environment git hands its hooks


def test_clean_git_env_drops_redirecting_variables_and_keeps_safe_ones() -> None:
    env = {
        "PATH": "/bin",
        "GIT_DIR": "x",
        "GIT_INDEX_FILE": "x",
        "GIT_WORK_TREE": "x",
        "GIT_PREFIX": "sub/",
        "GIT_OBJECT_DIRECTORY": "x",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": "x",
        "GIT_COMMON_DIR": "x",
        "GIT_NAMESPACE": "x",
        "GIT_QUARANTINE_PATH": "x",
        "GIT_REFLOG_ACTION": "x",
        "GIT_EDITOR": ":",
        "GIT_EXEC_PATH": "/usr/lib/git-core",
        "GIT_SSH_COMMAND": "ssh",
        "GIT_SSL_CAINFO": "ca",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "a.b",
        "GIT_CONFIG_VALUE_0": "c",
        "GIT_CONFIG_PARAMETERS": "'user.name'='x'",
        "GIT_AUTHOR_NAME": "A",
        "GIT_COMMITTER_EMAIL": "c@x",
    }
    assert sorted(clean_git_env(env)) == [
        "GIT_AUTHOR_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_KEY_0",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_VALUE_0",
        "GIT_EXEC_PATH",
        "GIT_SSH_COMMAND",
        "GIT_SSL_CAINFO",
        "PATH",
    ]


def test_bogus_inherited_git_variables_do_not_break_the_staged_diff(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "new.txt").write_text("hello\n")
    git(repo, "add", "new.txt")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "no-such-repo" / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "no-such-index"))
    monkeypatch.setenv("GIT_WORK_TREE", str(tmp_path))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(tmp_path / "objects"))
    monkeypatch.setenv("GIT_PREFIX", "nowhere/")
    assert statuses(staged_diff(repo)) == {"new.txt": "added"}
    # Nothing was taken from this process's environment for good.
    assert os.environ["GIT_DIR"] == str(tmp_path / "no-such-repo" / ".git")
    assert os.environ["GIT_INDEX_FILE"] == str(tmp_path / "no-such-index")


def test_another_repositorys_index_is_ignored(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    (other / "theirs.txt").write_text("x\n")
    git(other, "add", "theirs.txt")
    (repo / "ours.txt").write_text("y\n")
    git(repo, "add", "ours.txt")
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    assert hook_index_file(repo) is None
    assert statuses(staged_diff(repo)) == {"ours.txt": "added"}


def test_the_index_git_hands_a_hook_is_honoured(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`git commit -a` stages into a temporary index and names it in GIT_INDEX_FILE."""
    (repo / "README.md").write_text("# changed\n")
    alt = repo / ".git" / "next-index-1.lock"
    env = {**os.environ, "GIT_INDEX_FILE": str(alt)}
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo, env=env, check=True)
    subprocess.run(["git", "add", "README.md"], cwd=repo, env=env, check=True)
    assert staged_diff(repo) == ""  # the real index has nothing staged
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/next-index-1.lock")  # relative, as git sets it
    assert hook_index_file(repo) == alt.resolve()
    assert statuses(staged_diff(repo)) == {"README.md": "modified"}


def test_a_hook_sees_what_commit_dash_a_commits(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "seen.diff"
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(
        "#!/bin/sh\n"
        f"exec '{sys.executable}' -c 'import sys; from pathlib import Path; "
        "from specflow.gitx.gitops import staged_diff; "
        f'Path(sys.argv[1]).write_text(staged_diff(Path.cwd()))\' "{out}"\n'
    )
    hook.chmod(0o755)
    (repo / "README.md").write_text("# changed by commit -a\n")
    git(repo, "commit", "-qam", "all")
    assert "+# changed by commit -a\n" in out.read_text()


# --------------------------------------------------------------------------------------------
# Diffs


def test_staged_diff_in_a_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "first.txt").write_text("1\n")
    git(tmp_path, "add", "first.txt")
    assert statuses(staged_diff(tmp_path)) == {"first.txt": "added"}


def test_diffs_ignore_user_config_that_would_change_their_format(repo: Path) -> None:
    for key, value in [
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("color.ui", "always"),
        ("diff.external", "false"),
        ("core.quotePath", "true"),
    ]:
        git(repo, "config", key, value)
    (repo / "café.txt").write_text("x\n")
    git(repo, "add", "café.txt")
    diff = staged_diff(repo)
    assert diff.startswith("diff --git a/café.txt b/café.txt\n")
    assert "\x1b[" not in diff
    assert "index 0000000000000000000000000000000000000000.." in diff  # full index line


def test_range_diff_between_commits(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    (repo / "b.txt").write_text("b\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-qm", "b")
    assert statuses(range_diff(repo, f"{first}..HEAD")) == {"b.txt": "added"}
    assert statuses(range_diff(repo, f"{first}...")) == {"b.txt": "added"}
    assert range_diff(repo, "HEAD..HEAD") == ""


def test_a_bad_range_side_is_named(repo: Path) -> None:
    with pytest.raises(UsageError) as caught:
        range_diff(repo, "main..nosuchbranch")
    assert str(caught.value) == (
        f"range `main..nosuchbranch`: `nosuchbranch` is not a commit in {repo}; check it with "
        "`git log -1 nosuchbranch` (in CI, fetch enough history: a shallow clone may lack it)"
    )


@pytest.mark.parametrize("bad", ["main", "", "--output=x..HEAD", "HEAD..--exec=x"])
def test_a_range_without_two_sides_or_with_an_option_is_refused(repo: Path, bad: str) -> None:
    with pytest.raises(UsageError) as caught:
        range_diff(repo, bad)
    assert str(caught.value) == (
        f"`{bad}` is not a revision range; give two commits joined by `..` (changes between "
        "them) or `...` (changes since they diverged), e.g. `origin/main...HEAD`"
    )


def test_files_diff_shows_tracked_changes_untracked_files_and_deletions(repo: Path) -> None:
    (repo / "gone.txt").write_text("x\n")
    (repo / "src").mkdir()
    (repo / "src" / "tracked.py").write_text("a = 1\n")
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "more")
    (repo / "README.md").write_text("# edited\n")
    (repo / "gone.txt").unlink()
    (repo / "src" / "tracked.py").write_text("a = 2\n")
    (repo / "src" / "new.py").write_text("b = 1\n")
    (repo / "src" / "debug.log").write_text("ignored\n")
    (repo / "named.log").write_text("ignored, but named\n")
    (repo / "elsewhere.txt").write_text("not asked for\n")

    diff = files_diff(repo, ["README.md", "gone.txt", "src", "named.log"])
    assert statuses(diff) == {
        "README.md": "modified",
        "gone.txt": "deleted",
        "src/tracked.py": "modified",
        "src/new.py": "added",
        "named.log": "added",
    }
    new = [f for f in parse_diff(diff) if f.path == "src/new.py"][0]
    assert new.hunks[0].lines == ("+b = 1",)


def test_files_diff_takes_relative_paths_from_the_current_folder(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / "sub").mkdir()
    (repo / "sub" / "x.py").write_text("x\n")
    monkeypatch.chdir(repo / "sub")
    assert statuses(files_diff(repo, ["x.py"])) == {"sub/x.py": "added"}


def test_files_diff_in_a_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("a\n")
    git(tmp_path, "add", "a.txt")
    (tmp_path / "b.txt").write_text("b\n")
    assert statuses(files_diff(tmp_path, [str(tmp_path)])) == {
        "a.txt": "added",
        "b.txt": "added",
    }


def test_files_diff_refuses_paths_outside_the_repository(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("x\n")
    with pytest.raises(UsageError) as caught:
        files_diff(repo, [str(outside)])
    assert str(caught.value) == (
        f"{outside} is outside the repository {repo}; give a path inside it"
    )


def test_files_diff_refuses_missing_paths(repo: Path) -> None:
    with pytest.raises(UsageError) as caught:
        files_diff(repo, ["nope.txt"])
    assert str(caught.value) == (
        f"nope.txt does not exist in the working tree or in HEAD of {repo}; check the path"
    )


def test_files_diff_needs_paths(repo: Path) -> None:
    with pytest.raises(UsageError, match="^no paths given; name the files or folders to review$"):
        files_diff(repo, [])


# --------------------------------------------------------------------------------------------
# Hooks folder and file state


def test_hooks_dir_default_and_core_hooks_path(repo: Path) -> None:
    assert hooks_dir(repo) == repo / ".git" / "hooks"
    git(repo, "config", "core.hooksPath", ".githooks")
    assert hooks_dir(repo) == repo / ".githooks"


def test_head_content(repo: Path) -> None:
    (repo / "README.md").write_text("# changed on disk\n")
    (repo / "new.txt").write_text("untracked\n")
    assert head_content(repo, "README.md") == "# demo\n"
    assert head_content(repo, repo / "README.md") == "# demo\n"
    assert head_content(repo, "new.txt") is None
    assert head_content(repo, ".") is None


def test_head_content_of_a_folder_or_before_the_first_commit(repo: Path, tmp_path: Path) -> None:
    (repo / "pkg").mkdir()
    (repo / "pkg" / "m.py").write_text("x\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "pkg")
    assert head_content(repo, "pkg") is None
    assert head_content(repo, "pkg/m.py") == "x\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    assert head_content(empty, "anything.txt") is None


def test_head_content_refuses_a_path_outside(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        head_content(repo, tmp_path / "x.txt")
    assert str(caught.value) == (
        f"{tmp_path / 'x.txt'} is outside the repository {repo}; give a path inside it"
    )


def test_is_tracked_and_modified(repo: Path) -> None:
    assert is_tracked_and_modified(repo, "README.md") is False
    (repo / "README.md").write_text("# unstaged\n")
    assert is_tracked_and_modified(repo, "README.md") is True
    git(repo, "add", "README.md")
    assert is_tracked_and_modified(repo, "README.md") is True
    (repo / "README.md").write_text("# demo\n")  # staged change, work tree back to HEAD
    assert is_tracked_and_modified(repo, "README.md") is True
    git(repo, "reset", "-q", "README.md")
    assert is_tracked_and_modified(repo, "README.md") is False
    (repo / "untracked.txt").write_text("x\n")
    assert is_tracked_and_modified(repo, "untracked.txt") is False
    (repo / "README.md").unlink()
    assert is_tracked_and_modified(repo, "README.md") is True


def test_a_failing_git_command_names_itself(tmp_path: Path) -> None:
    with pytest.raises(gitops.GitError) as caught:
        hooks_dir(tmp_path)
    assert str(caught.value) == (
        f"`git rev-parse --git-path hooks` failed in {tmp_path} (exit 128): fatal: not a git "
        "repository (or any of the parent directories): .git; fix the repository state (try "
        "the command yourself) and run specflow again"
    )


def test_git_never_reads_specflow_stdin(tmp_path: Path) -> None:
    """A reply piped to `--reply -` stays for specflow: git gets no stdin (here `hash-object
    --stdin`, which names the empty tree of a repository without commits)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    code = "import sys; from pathlib import Path; from specflow.gitx import gitops\n"
    code += "print(gitops._head_or_empty_tree(Path(sys.argv[1])), sys.stdin.read())"
    done = subprocess.run(
        [sys.executable, "-c", code, str(empty)],
        input="## Verdict\nPASS\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "4b825dc642cb6eb9a060e54bf8d69288fbee4904 ## Verdict\nPASS\n\n"


def test_messages_are_read_in_english_whatever_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a UTF-8 locale, LANGUAGE picks git's translation (German where git.mo is installed).
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("LANGUAGE", "de")
    outside = tmp_path / "plain"
    outside.mkdir()
    with pytest.raises(UsageError, match="is not inside one"):
        repo_root(outside)


def test_a_missing_folder_is_not_blamed_on_git(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        hooks_dir(tmp_path / "gone")
    assert str(caught.value) == (
        f"{tmp_path / 'gone'} does not exist; run specflow from inside your repository"
    )
