"""Git access for specflow: repository root, diffs, file state and the hooks folder.

Git commands run as plain subprocesses (`_run`): the review gate runs on every commit and a
cached review has a budget of a quarter of a second, of which `import git` alone would take
60-110 ms (it imports GitPython's object model and runs `git version`) just to start the same
subprocess. GitPython's object model reads the blobs of HEAD (`head_content`), imported
inside that function only, so `specflow --help`, `status`, `check` and `review` never pay it.

Git hands its hooks environment variables that point at *its* view of the repository
(GIT_DIR, GIT_INDEX_FILE, GIT_WORK_TREE, GIT_PREFIX, ...). Inherited by a git command that
specflow runs — from a submodule's hook, a worktree's hook, or a hook of another repository
that calls specflow — they redirect that command to the wrong repository or index (see
https://github.com/pre-commit/pre-commit/issues/300). So every command runs with those
variables removed (`clean_git_env`, after pre-commit's `no_git_env`), and GitPython runs
with them taken out of os.environ.

One exception, on purpose: the staged diff honours a GIT_INDEX_FILE that lies inside this
repository's git directory. During `git commit -a` or `git commit <paths>` git builds the
commit in a temporary index (`.git/index.lock`, `.git/next-index-*.lock`) and tells the hook
through GIT_INDEX_FILE; dropping it would review the old index, i.e. nothing, or the wrong
files. A value pointing anywhere else (or at nothing) is ignored.

Every diff is produced with fixed options, whatever the user's git config says, so that
diffs.parse_diff can read it: no colour, no external diff or textconv driver, rename
detection (-M), full index lines, `a/` and `b/` prefixes, unescaped non-ASCII paths.
Output is decoded as UTF-8; bytes that are not UTF-8 become U+FFFD.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from specflow.errors import SpecflowError, UsageError

# Variables git sets or reads that do not redirect it to another repository or index.
_SAFE_GIT_VARS = frozenset(
    {
        "GIT_EXEC_PATH",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_SSH_VARIANT",
        "GIT_SSL_CAINFO",
        "GIT_SSL_NO_VERIFY",
        "GIT_ASKPASS",
        "GIT_TERMINAL_PROMPT",
        "GIT_HTTP_PROXY_AUTHMETHOD",
        "GIT_ALLOW_PROTOCOL",
        "GIT_CEILING_DIRECTORIES",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    }
)
# GIT_CONFIG_GLOBAL, GIT_CONFIG_NOSYSTEM, GIT_CONFIG_COUNT/KEY_n/VALUE_n, GIT_CONFIG_PARAMETERS
# (`git -c` settings) and the commit identity.
_SAFE_GIT_PREFIXES = ("GIT_CONFIG", "GIT_AUTHOR_", "GIT_COMMITTER_")

# Config overrides (on every command) that keep output parseable whatever the user's config says.
_CONFIG_OVERRIDES = (
    "-c",
    "core.quotePath=false",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "diff.relative=false",
)
_DIFF_OPTIONS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "-M",
    "--full-index",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--submodule=short",
)
_NOT_A_REPO = "specflow works inside a git repository; run `git init` first"

# GitPython builds each child's environment from os.environ and can only add to it, so
# cleaning means removing keys from os.environ while it runs; the lock keeps two threads from
# interleaving that.
_ENV_LOCK = threading.Lock()


class GitError(SpecflowError):
    """A git command failed for a reason other than the user's input."""


def clean_git_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of *environ* (default os.environ) without the GIT_* variables that redirect git."""
    source = os.environ if environ is None else environ
    return {key: value for key, value in source.items() if not _redirects_git(key)}


def _redirects_git(key: str) -> bool:
    if not key.startswith("GIT_"):
        return False
    return key not in _SAFE_GIT_VARS and not key.startswith(_SAFE_GIT_PREFIXES)


# --------------------------------------------------------------------------------------------
# Public API


def repo_root(start: Path) -> Path:
    """The top folder of the working tree that contains *start* (a folder or a file)."""
    start = Path(start)
    folder = start if start.is_dir() else start.parent
    if not folder.is_dir():
        raise UsageError(f"{start} does not exist; run specflow from inside your repository")
    status, out, err = _run(folder, "rev-parse", "--show-toplevel")
    if status == 0 and out.strip():
        return Path(_line(_text(out)))
    if "not a git repository" in err:
        raise UsageError(f"{_NOT_A_REPO} ({folder} is not inside one)")
    raise UsageError(
        f"{folder} is not inside a git working tree ({_first_line(err)}); "
        "run specflow from the repository's working tree, not from .git or a bare repository"
    )


def staged_diff(root: Path) -> str:
    """The changes staged for the next commit (what `git commit` would record)."""
    env = {}
    index = hook_index_file(root)
    if index is not None:
        env["GIT_INDEX_FILE"] = str(index)
    return _diff(root, ("--cached",), env)


def range_diff(root: Path, rev_range: str) -> str:
    """The changes in a revision range: `A..B` (between A and B) or `A...B` (B since A)."""
    left, right = _split_range(rev_range)
    for side in (left, right):
        _verify_commit(root, rev_range, side)
    return _diff(root, (rev_range,))


def files_diff(root: Path, paths: Sequence[str | Path]) -> str:
    """The working tree against HEAD for *paths* (files or folders), untracked files as new.

    Relative paths are taken from the current directory, as a shell would. A path outside
    the repository, or one neither on disk nor in HEAD, is a UsageError.
    """
    if not paths:
        raise UsageError("no paths given; name the files or folders to review")
    rels = [_repo_relative(root, path) for path in paths]
    for rel, raw in zip(rels, paths, strict=True):
        if not (root / rel).exists() and not _in_head(root, rel):
            raise UsageError(
                f"{raw} does not exist in the working tree or in HEAD of {root}; check the path"
            )
    tracked = _diff(root, (_head_or_empty_tree(root),), paths=rels)
    untracked = [_new_file_diff(root, rel) for rel in _untracked(root, rels)]
    return tracked + "".join(untracked)


def hooks_dir(root: Path) -> Path:
    """The folder git runs hooks from (honours core.hooksPath and linked worktrees)."""
    out = _checked(root, "rev-parse", "--git-path", "hooks")
    return Path(os.path.normpath(root / _line(out)))


def head_content(root: Path, path: str | Path) -> str | None:
    """The file's content in HEAD, or None when HEAD has no file there (or no HEAD yet).

    *path* is absolute or relative to the repository root. The content is the blob as
    stored, without checkout filters (line-ending conversion, smudge).
    """
    rel = _repo_relative(root, path, base=root)
    if rel == ".":
        return None
    with _gitpython(root) as repo:
        try:
            item = repo.head.commit.tree / rel
        except ValueError:  # no commit yet: HEAD names a branch that does not exist
            return None
        except KeyError:  # no such path in HEAD
            return None
        if item.type != "blob":
            return None
        data: bytes = item.data_stream.read()
    return _text(data)


def is_tracked_and_modified(root: Path, path: str | Path) -> bool:
    """Whether git tracks the file and it has uncommitted changes, staged or not.

    *path* is absolute or relative to the repository root. Untracked files give False.
    """
    rel = _repo_relative(root, path, base=root)
    out = _checked(
        root,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=no",
        "--ignore-submodules=none",
        "--",
        rel,
        # status may refresh the index; don't take its lock from under a running git.
        env={"GIT_OPTIONAL_LOCKS": "0"},
    )
    return bool(out.strip("\0"))


def hook_index_file(root: Path) -> Path | None:
    """The index git handed its hook through GIT_INDEX_FILE, if it belongs to this repository.

    A relative value is read from the current directory, which git sets to the top of the
    working tree before it runs a hook.
    """
    value = os.environ.get("GIT_INDEX_FILE", "")
    if not value:
        return None
    index = Path(value).resolve()
    if not index.is_file():
        return None
    out = _checked(root, "rev-parse", "--absolute-git-dir", "--git-common-dir")
    git_dir, common_dir = ((root / line).resolve() for line in out.splitlines()[:2])
    if any(_is_within(index, folder) for folder in (git_dir, common_dir)):
        return index
    return None


# --------------------------------------------------------------------------------------------
# Helpers


def _diff(
    root: Path, args: Sequence[str], env: Mapping[str, str] | None = None, paths: Sequence[str] = ()
) -> str:
    return _checked(root, "diff", *_DIFF_OPTIONS, *args, "--", *paths, env=env)


def _new_file_diff(root: Path, rel: str) -> str:
    """An untracked file shown as an addition (`git diff --no-index /dev/null FILE`)."""
    status, out, err = _run(root, "diff", "--no-index", *_DIFF_OPTIONS, "--", os.devnull, rel)
    if status not in (0, 1):  # --no-index exits 1 when the files differ
        raise GitError(f"could not diff untracked file {rel} in {root}: {_first_line(err)}")
    return _text(out)


def _untracked(root: Path, rels: Sequence[str]) -> list[str]:
    """Untracked files under *rels*: any named file, and non-ignored files under folders."""
    files = [rel for rel in rels if (root / rel).is_file()]
    folders = [rel for rel in rels if (root / rel).is_dir()]
    found: set[str] = set()
    if files:
        found.update(_nul_list(_checked(root, "ls-files", "--others", "-z", "--", *files)))
    if folders:
        out = _checked(root, "ls-files", "--others", "--exclude-standard", "-z", "--", *folders)
        found.update(_nul_list(out))
    return sorted(found)


def _in_head(root: Path, rel: str) -> bool:
    status, out, _ = _run(root, "ls-tree", "--name-only", "HEAD", "--", rel)
    return status == 0 and bool(out.strip())


def _head_or_empty_tree(root: Path) -> str:
    """HEAD, or the empty tree in a repository with no commit yet."""
    status, _, _ = _run(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if status == 0:
        return "HEAD"
    return _line(_checked(root, "hash-object", "-t", "tree", "--stdin"))


def _split_range(rev_range: str) -> tuple[str, str]:
    separator = "..." if "..." in rev_range else ".."
    left, found, right = rev_range.partition(separator)
    if not found or left.startswith("-") or right.startswith("-"):
        raise UsageError(
            f"`{rev_range}` is not a revision range; give two commits joined by `..` "
            "(changes between them) or `...` (changes since they diverged), "
            "e.g. `origin/main...HEAD`"
        )
    return left or "HEAD", right or "HEAD"


def _verify_commit(root: Path, rev_range: str, rev: str) -> None:
    status, _, _ = _run(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if status != 0:
        raise UsageError(
            f"range `{rev_range}`: `{rev}` is not a commit in {root}; check it with "
            f"`git log -1 {rev}` (in CI, fetch enough history: a shallow clone may lack it)"
        )


def _repo_relative(root: Path, path: str | Path, base: Path | None = None) -> str:
    """*path* relative to *root* in git's form (forward slashes); outside -> UsageError."""
    given = Path(path)
    absolute = given if given.is_absolute() else (base or Path.cwd()) / given
    # Resolve symlinks in the folders only, so a tracked symlink is still itself.
    absolute = Path(os.path.abspath(absolute))
    absolute = absolute.parent.resolve() / absolute.name if absolute.name else absolute
    rel = os.path.relpath(absolute, Path(root).resolve())
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        raise UsageError(f"{path} is outside the repository {root}; give a path inside it")
    return Path(rel).as_posix()


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _checked(root: Path, *args: str, env: Mapping[str, str] | None = None) -> str:
    return _text(_checked_bytes(root, *args, env=env))


def _checked_bytes(root: Path, *args: str, env: Mapping[str, str] | None = None) -> bytes:
    status, out, err = _run(root, *args, env=env)
    if status != 0:
        raise GitError(
            f"`git {' '.join(args)}` failed in {root} (exit {status}): {_first_line(err)}; "
            "fix the repository state (try the command yourself) and run specflow again"
        )
    return out


def _run(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> tuple[int, bytes, str]:
    """Run git in *cwd* with a clean environment; return (exit status, stdout, stderr).

    *env* adds to the cleaned environment (e.g. the hook's GIT_INDEX_FILE, vetted above).
    Git reads nothing from specflow's stdin (which may hold a reply piped to `--reply -`),
    and speaks English (LC_ALL=C), so that its messages can be recognised.
    """
    # GIT_PYTHON_GIT_EXECUTABLE names a git that is not on PATH (GitPython's setting, honoured
    # for every command so that both ways of running git agree).
    git = os.environ.get("GIT_PYTHON_GIT_EXECUTABLE") or "git"
    environment = {**clean_git_env(), "LANGUAGE": "C", "LC_ALL": "C", **(env or {})}
    try:
        done = subprocess.run(
            [git, *_CONFIG_OVERRIDES, *args],
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
        )
    except FileNotFoundError as exc:
        if exc.filename is not None and Path(exc.filename) == Path(cwd):
            message = f"{cwd} does not exist; run specflow from inside your repository"
            raise UsageError(message) from None
        raise GitError(f"git could not be run ({exc}); install git, put it on PATH") from None
    except OSError as exc:  # git is there but cannot be run
        raise GitError(f"git could not be run ({exc}); install git, put it on PATH") from None
    return done.returncode, done.stdout, _text(done.stderr)


@contextmanager
def _gitpython(root: Path) -> Iterator[Any]:
    """GitPython's Repo for *root*, with the redirecting GIT_* variables out of os.environ."""
    with _ENV_LOCK, _without_redirecting_git_vars():
        try:
            import git
        except ImportError as exc:  # GitPython raises ImportError when git itself is missing
            raise GitError(f"git could not be loaded ({exc}); install git, put it on PATH") from exc
        with git.Repo(root) as repo:
            yield repo


@contextmanager
def _without_redirecting_git_vars() -> Iterator[None]:
    removed = {key: os.environ.pop(key) for key in list(os.environ) if _redirects_git(key)}
    try:
        yield
    finally:
        os.environ.update(removed)


def _text(out: bytes) -> str:
    return out.decode("utf-8", errors="replace")


def _line(out: str) -> str:
    return out.rstrip("\n")


def _first_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def _nul_list(out: str) -> list[str]:
    return [name for name in out.split("\0") if name]
