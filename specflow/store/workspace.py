"""Workspace: the only code that knows paths under .specflow/, and reads or writes them.

The task record and its states are store/task.py's; the time formats store/clock.py's.

Every write is atomic (temporary file, then os.replace); a corrupt task.json is reported
with its path and nothing else is touched.
"""

from __future__ import annotations

import json
import re
import shutil
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from specflow.errors import StateError, UsageError
from specflow.gitx.secrets import redact_text
from specflow.resources import packaged_folder
from specflow.store import lock
from specflow.store.clock import now, stamp, today
from specflow.store.fsutil import (
    atomic_append_text,
    atomic_write_bytes,
    atomic_write_text,
    ensure_git_ignored,
    refused_write,
)
from specflow.store.repo import SPECFLOW_DIR, find_root
from specflow.store.task import SLUG_MAX, SLUG_PATTERN, Task, slugify

GITIGNORE_LINE = ".specflow/cache/"
TRANSCRIPT = "transcript.jsonl"
CACHE_IGNORE_WHY = "the review cache stays local"
# Handoff prompts carry the task's context (redacted, but still the user's code) and the
# replies the user saves next to them: local material, never part of a commit.
HANDOFF_IGNORE_WHY = "handoff prompts and replies stay local"
# A backup is the user's file byte for byte (their way back), secrets included: never in git.
BACKUPS_IGNORE_WHY = "backups of your files, secrets included, stay local"

# An archived task's folder: .specflow/archive/<date>-<slug>/ (~2, ~3 ... when taken).
ARCHIVE_NAME = re.compile(rf"(\d{{4}}-\d{{2}}-\d{{2}})-({SLUG_PATTERN.pattern})(?:~(\d+))?")

ROW_KEYS = ("slug", "state", "created", "artifacts", "current", "archived")
ARTIFACTS = ("describe", "scope", "answers", "spec")


def unused_path(folder: Path, name: str, suffix: str = "") -> Path:
    """folder/<name>.<stamp><suffix>, or <name>.<stamp>-2<suffix> ... when that is taken."""
    when = stamp()
    candidate = folder / f"{name}.{when}{suffix}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{name}.{when}-{n}{suffix}"
        n += 1
    return candidate


class Workspace:
    """The .specflow/ folder of one repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / SPECFLOW_DIR
        self.config_path = self.dir / "config.toml"
        self.tasks_dir = self.dir / "tasks"
        self.cache_dir = self.dir / "cache"
        self.current_file = self.dir / "current"
        self.archive_dir = self.dir / "archive"

    @classmethod
    def find(cls, start: Path | None = None) -> Workspace:
        return cls(Path(find_root(start or Path.cwd())))

    # -- init -------------------------------------------------------------------------

    def init(self, config_text: str, *, force: bool = False, eject: bool = False) -> list[str]:
        """Create the config and .gitignore entry; return what was done, line by line."""
        done: list[str] = []
        if self.config_path.exists() and not force:
            done.append(
                f"{self.rel(self.config_path)} exists; left untouched "
                "(`specflow init --force` rewrites it and keeps a backup)"
            )
        else:
            if self.config_path.exists():
                backup = self._backup_path(self.config_path)
                shutil.copy2(self.config_path, backup)
                done.append(f"kept the old config as {self.rel(backup)}")
            atomic_write_text(self.config_path, config_text)
            done.append(f"wrote {self.rel(self.config_path)}")
        self.tasks_dir.mkdir(parents=True, exist_ok=True)
        done.append(self.ensure_gitignore())
        if eject:
            done.extend(self._eject())
        return done

    def _backup_path(self, path: Path) -> Path:
        return unused_path(path.parent, path.name, ".bak")

    def ensure_gitignore(self) -> str:
        gitignore = self.root / ".gitignore"
        text = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
        lines = {line.strip() for line in text.splitlines()}
        if GITIGNORE_LINE in lines or "/" + GITIGNORE_LINE in lines:
            return f".gitignore already ignores {GITIGNORE_LINE}"
        if text and not text.endswith("\n"):
            text += "\n"
        atomic_write_text(gitignore, text + GITIGNORE_LINE + "\n")
        return f"added {GITIGNORE_LINE} to .gitignore"

    def _eject(self) -> list[str]:
        """Copy the packaged templates/ and rules/, subfolders included (templates/agents/),
        into .specflow/; a file the project already has is kept."""
        return self.eject("templates") + self.eject("rules")

    def eject(self, kind: str, subfolder: str = "") -> list[str]:
        """Copy the packaged *kind* folder (or its *subfolder*, e.g. templates/agents) into
        .specflow/ to customise; a file the project already has is kept."""
        source_root = Path(packaged_folder(kind), subfolder)
        target = self.dir / kind / subfolder
        sources = (p for p in source_root.rglob("*") if p.is_file())
        done = []
        for source in sorted(sources, key=lambda p: p.relative_to(source_root).parts):
            rel = source.relative_to(source_root)
            if "__pycache__" in rel.parts:
                continue
            dest = target.joinpath(*rel.parts)
            if dest.exists():
                done.append(f"{self.rel(dest)} exists; kept the project's version")
                continue
            atomic_write_text(dest, source.read_text(encoding="utf-8"))
            shown = "/".join(part for part in (kind, subfolder, rel.as_posix()) if part)
            done.append(f"copied {shown} to {self.rel(dest)}")
        return done

    # -- tasks ------------------------------------------------------------------------

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def task_dir(self, slug: str) -> Path:
        if not SLUG_PATTERN.fullmatch(slug):
            raise UsageError(
                f"`{slug}` is not a task slug (lowercase letters, digits and '-', at most "
                f"{SLUG_MAX} characters)"
            )
        return self.tasks_dir / slug

    def slugs(self) -> list[str]:
        if not self.tasks_dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self.tasks_dir.iterdir()
            if SLUG_PATTERN.fullmatch(p.name) and (p / "task.json").is_file()
        )

    def unique_slug(self, base: str) -> str:
        slug, n = base, 2
        while self.task_dir(slug).exists():
            suffix = f"-{n}"
            slug = base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
            n += 1
        return slug

    def load(self, slug: str) -> Task:
        if not SLUG_PATTERN.fullmatch(slug):
            raise UsageError(self._unknown_task(slug))
        path = self.task_dir(slug) / "task.json"
        if not path.is_file():
            raise UsageError(self._unknown_task(slug))
        return self.read_task(path, slug)

    def read_task(self, path: Path, slug: str) -> Task:
        try:
            task = Task.model_validate_json(path.read_text(encoding="utf-8"))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            detail = f"{where}: {err['msg']}" if where else err["msg"]
            raise StateError(
                f"{self.rel(path)} is corrupt ({detail}); fix or restore it "
                "(it is plain JSON; `git log -p` may have an older copy)"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"{self.rel(path)} cannot be read: {exc}") from None
        if task.slug != slug:
            raise StateError(
                f"{self.rel(path)} says its slug is {task.slug!r}, but it lives in "
                f"{path.parent.relative_to(self.dir).as_posix()}/; "
                f'set "slug" back to "{slug}"'
            )
        return task

    def save(self, task: Task) -> None:
        task.updated = now()
        path = self.task_dir(task.slug) / "task.json"
        atomic_write_text(path, task.model_dump_json(indent=2) + "\n")

    def status_rows(
        self, include_archived: bool = False
    ) -> tuple[list[dict[str, Any]], list[StateError]]:
        """One row per task for `specflow status` (with *include_archived*, the archived tasks
        too, marked `archived`); a corrupt task is listed and reported."""
        current = self.current_slug()
        rows: list[dict[str, Any]] = []
        problems: list[StateError] = []
        folders = [(slug, self.tasks_dir / slug, False) for slug in self.slugs()]
        if include_archived:
            folders += [(slug, folder, True) for slug, folder in self.archived()]
        for slug, folder, archived in folders:
            row: dict[str, Any] = {"slug": slug, "current": slug == current and not archived}
            try:
                task = self.read_task(folder / "task.json", slug)
            except StateError as exc:
                problems.append(exc)
                row.update(state="corrupt", created=None, artifacts=[])
            else:
                row.update(state=task.state, created=task.created, artifacts=_files_in(folder))
            row["archived"] = self.rel(folder) if archived else None
            rows.append({k: row[k] for k in ROW_KEYS})
        return rows, problems

    # -- done tasks: the archive --------------------------------------------------------

    def archived(self) -> list[tuple[str, Path]]:
        """(slug, folder) of every archived task, oldest first."""
        if not self.archive_dir.is_dir():
            return []
        found = []
        for folder in self.archive_dir.iterdir():
            match = ARCHIVE_NAME.fullmatch(folder.name)
            if match and (folder / "task.json").is_file():
                # date, then the ~N of a name taken that day as a number (~10 after ~9)
                order = (match.group(1), int(match.group(3) or 1))
                found.append((order, match.group(2), folder))
        return [(slug, folder) for _, slug, folder in sorted(found)]

    def archived_folder(self, slug: str) -> Path | None:
        """The newest archive folder of task *slug*, or None."""
        folders = [folder for name, folder in self.archived() if name == slug]
        return folders[-1] if folders else None

    def archive(self, task: Task) -> Path:
        """Move the task's folder to .specflow/archive/<date>-<slug>/ (one rename: it is
        there whole or still in tasks/), record *task* there as it is now, and stop it being
        current. Returns the new folder."""
        source = self.task_dir(task.slug)
        name = f"{today()}-{task.slug}"
        dest, n = self.archive_dir / name, 2
        while dest.exists():
            dest, n = self.archive_dir / f"{name}~{n}", n + 1
        with refused_write(dest):
            self.archive_dir.mkdir(parents=True, exist_ok=True)
            source.rename(dest)
        task.updated = now()
        atomic_write_text(dest / "task.json", task.model_dump_json(indent=2) + "\n")
        if self.current_slug() == task.slug:
            with refused_write(self.current_file):
                self.current_file.unlink()
        return dest

    def task_folder(self, slug: str | None) -> tuple[Task, Path]:
        """The task --task names (or the current one) and its folder; a task that is done is
        read from the archive."""
        if slug and SLUG_PATTERN.fullmatch(slug) and not self.task_dir(slug).is_dir():
            folder = self.archived_folder(slug)
            if folder is not None:
                return self.read_task(folder / "task.json", slug), folder
        task = self.resolve(slug)
        return task, self.task_dir(task.slug)

    def current_slug(self) -> str | None:
        if not self.current_file.is_file():
            return None
        slug = self.current_file.read_text(encoding="utf-8").strip()
        return slug or None

    def set_current(self, slug: str) -> None:
        if not SLUG_PATTERN.fullmatch(slug) or not (self.task_dir(slug) / "task.json").is_file():
            raise UsageError(self._unknown_task(slug))
        atomic_write_text(self.current_file, slug + "\n")

    def resolve(self, slug: str | None) -> Task:
        """The task named by --task, or the current one."""
        if slug:
            return self.load(slug)
        current = self.current_slug()
        if current is None:
            raise UsageError(
                'no current task; create one with `specflow new "DESCRIPTION"` '
                "or pick one with `specflow use SLUG`"
            )
        if not (self.task_dir(current) / "task.json").is_file():
            raise UsageError(
                f"the current task `{current}` (from {self.rel(self.current_file)}) does not "
                "exist; pick another with `specflow use SLUG`"
            )
        return self.load(current)

    def _unknown_task(self, slug: str) -> str:
        known = self.slugs()
        listed = ", ".join(known) if known else "none yet; create one with `specflow new`"
        archived = self.archived_folder(slug) if SLUG_PATTERN.fullmatch(slug) else None
        if archived is not None:
            return (
                f"task `{slug}` is done and archived; `specflow status --all` lists it and "
                f"`specflow show spec --task {slug}` prints its spec (open tasks: {listed})"
            )
        return f"no task `{slug}`; known tasks: {listed}"

    # -- artifacts --------------------------------------------------------------------

    def artifact_path(self, task: Task, name: str) -> Path:
        return self.task_dir(task.slug) / (name if "." in name else f"{name}.md")

    def shown_artifact(self, task: Task, name: str) -> Path:
        """An artifact a user asked to see: a file directly in the task folder, by name."""
        candidate = name if "." in name else f"{name}.md"
        if "/" in candidate or "\\" in candidate or candidate.startswith("."):
            have = ", ".join(Path(a).stem for a in self.artifacts(task)) or "none"
            raise UsageError(f"`{name}` is not an artifact of task `{task.slug}`; it has: {have}")
        return self.task_dir(task.slug) / candidate

    def artifacts(self, task: Task) -> list[str]:
        return _files_in(self.task_dir(task.slug))

    def read_shown(self, task: Task, folder: Path, name: str, extra: tuple[str, ...] = ()) -> str:
        """The artifact *name* of the task in *folder* (its own, or its archive folder); an
        unknown name lists the known ones (*extra*: names the caller shows itself)."""
        candidate = name if "." in name else f"{name}.md"
        path = folder / candidate
        shown = [Path(a).stem for a in _files_in(folder) if a.endswith(".md")]
        known = ", ".join(shown + list(extra)) or "none"
        if "/" in candidate or "\\" in candidate or candidate.startswith("."):
            raise UsageError(f"`{name}` is not an artifact of task `{task.slug}`; it has: {known}")
        if not path.is_file():
            raise UsageError(
                f"task `{task.slug}` has no {name} yet ({self.rel(path)}); it has: {known}"
            )
        return path.read_text(encoding="utf-8")

    def read_artifact(self, task: Task, name: str) -> str:
        path = self.artifact_path(task, name)
        if not path.is_file():
            have = ", ".join(Path(a).stem for a in self.artifacts(task)) or "none"
            raise UsageError(
                f"task `{task.slug}` has no {name} yet ({self.rel(path)}); it has: {have}"
            )
        return path.read_text(encoding="utf-8")

    def write_artifact(self, task: Task, name: str, text: str) -> Path:
        """Write an artifact of the task (a reply that held its contract, the answers, a
        spec), redacted like everything under .specflow/: a reply or an answer may hold a
        value that must not be committed with the task."""
        from specflow.gitx.allowlist import load_allowlist

        path = self.artifact_path(task, name)
        atomic_write_text(path, redact_text(text, path.name, load_allowlist(self.root)))
        return path

    def keep_attempt(self, home: Path, stage: str, text: str) -> Path:
        """Save a reply that broke its contract under <home>/attempts/, redacted (a model may
        echo a value it saw); never overwrite one."""
        folder = self.attempts_dir(home)
        when = stamp()
        n = 1
        while (path := folder / f"{stage}-{when}-{n}.md").exists():
            n += 1
        atomic_write_text(path, redact_text(text))
        return path

    def create_task(
        self, title: str, describe_md: str, context: list[str], name: str | None
    ) -> Task:
        """Create the task folder with task.json and describe.md, and make it current. The
        title (and the folder named after it) is redacted like describe.md."""
        title = redact_text(title)
        base = slugify(name) if name else slugify(title)
        slug = self.unique_slug(base)
        task = Task(slug=slug, title=title, context=context)
        folder = self.task_dir(slug)
        with refused_write(folder):
            folder.mkdir(parents=True)
        try:
            atomic_write_text(folder / "describe.md", describe_md)
            self.save(task)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        self.set_current(slug)
        return task

    # -- paths under .specflow/ -------------------------------------------------------
    # Every path below .specflow/ is spelled here; stages ask for them by meaning.

    @property
    def review_cache_dir(self) -> Path:
        """Review verdicts, memos, and the review's attempts and handoff files."""
        return self.cache_dir / "review"

    def stage_home(self, task: Task | None, stage: str) -> Path:
        """Where a stage run keeps its attempts and handoff files.

        A review's files hold the (redacted) diff of a change not yet committed, so they stay
        in the git-ignored cache; the other stages keep theirs with the task.
        """
        if task is None or stage == "review":
            return self.review_cache_dir
        return self.task_dir(task.slug)

    def attempts_dir(self, home: Path) -> Path:
        return home / "attempts"

    def handoff_dir(self, home: Path) -> Path:
        """Where handoff prompts go; whoever writes into it calls ensure_git_ignored on it
        (with HANDOFF_IGNORE_WHY) first, so the folder never shows in `git status`."""
        return home / "handoff"

    def handoff_reply_path(self, task: Task | None, stage: str) -> Path:
        """Where the user saves a handoff reply for `--reply`."""
        return self.handoff_dir(self.stage_home(task, stage)) / f"{stage}.reply.md"

    def transcript_path(self, task: Task | None) -> Path:
        """The task's transcript.jsonl (a review without a task: the review cache's)."""
        home = self.task_dir(task.slug) if task is not None else self.review_cache_dir
        return home / TRANSCRIPT

    def conversation_path(self, task: Task, stage: str = "implement") -> Path:
        return self.task_dir(task.slug) / "conversations" / f"{stage}.json"

    def written_copy_path(self, task: Task, rel: str) -> Path:
        """specflow's copy of what it last wrote to *rel*, to diff the user's edits against."""
        return self.task_dir(task.slug) / "written" / rel

    def backup_path(self, task: Task, rel: str) -> Path:
        """A new, unused path for a backup of the user's *rel* before specflow overwrites it;
        the backups folder is git-ignored (a backup is the file as it was, secrets and all)."""
        folder = self.task_dir(task.slug) / "backups"
        ensure_git_ignored(folder, BACKUPS_IGNORE_WHY)
        target = folder / rel
        return unused_path(target.parent, target.name)

    def spec_round_name(self) -> str:
        """The artifact name of a superseded spec (`rounds/spec-<stamp>.md`)."""
        return f"rounds/spec-{stamp()}.md"

    def lock_path(self, task: Task) -> Path:
        return self.task_dir(task.slug) / "lock"

    # -- writes that are not artifacts ------------------------------------------------

    def append_transcript(self, task: Task | None, line: str) -> Path:
        """Append one JSONL line to the transcript (atomically: never an empty file left)."""
        path = self.transcript_path(task)
        atomic_append_text(path, line if line.endswith("\n") else line + "\n")
        return path

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Write a file under .specflow/ byte for byte (backups keep line endings)."""
        atomic_write_bytes(path, data)

    def ensure_cache_ignored(self) -> None:
        """.specflow/cache/.gitignore ignoring everything: the cache never reaches git, and
        the user's own .gitignore is not touched for it."""
        ensure_git_ignored(self.cache_dir, CACHE_IGNORE_WHY)

    def stage_lock(self, task: Task, command: str) -> AbstractContextManager[None]:
        """Hold the task's lock while a stage runs: a second stage of the same task fails at
        once (exit 2) naming *command* and this process id; the kernel frees it if we die."""
        return lock.held(self.lock_path(task), command, f"task `{task.slug}`")


# Files of a task folder that are specflow's bookkeeping, not artifacts a person reads.
_NOT_ARTIFACTS = ("task.json", "lock", "lock.holder.json")


def _files_in(folder: Path) -> list[str]:
    """The artifacts of a task folder: its files but task.json and the stage lock."""
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in _NOT_ARTIFACTS)


def load_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))
