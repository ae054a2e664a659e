"""init, new/describe, status, use, show, config errors, the task store, exit codes."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from specflow.cli import cli
from specflow.config import Config, load_config
from specflow.errors import ConfigError, StateError
from specflow.resources import data_file
from specflow.store.task import Task, slugify
from specflow.store.workspace import Workspace
from tests.conftest import git
from tests.support.helpers import run
from tests.support.samples import SCOPE_REPLY, SPEC_REPLY


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output == "specflow 0.1.0\n"


def test_every_command_has_help_with_an_example() -> None:
    for name, command in cli.commands.items():
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Example:" in result.output, f"`specflow {name} --help` has no example"
        assert command.help, name


def test_init_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("init")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: specflow works inside a git repository; run `git init` first\n"
    )
    assert not (tmp_path / ".specflow").exists()


def test_init_from_a_subfolder_writes_at_the_root(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    result = run("init")
    assert result.exit_code == 0
    assert result.output == "wrote .specflow/config.toml\nadded .specflow/cache/ to .gitignore\n"
    config = repo / ".specflow" / "config.toml"
    assert config.read_text() == data_file("config.toml").read_text()
    assert (repo / ".gitignore").read_text() == ".specflow/cache/\n"
    assert not (sub / ".specflow").exists()


def test_test_command_is_set_only_for_the_implement_stage() -> None:
    import tomllib

    stages = tomllib.loads(data_file("config.toml").read_text())["stages"]
    assert {name for name, table in stages.items() if "test_command" in table} == {"implement"}
    assert {name for name, table in stages.items() if "test_timeout_s" in table} == {"implement"}


def test_config_template_documents_every_setting_with_its_default() -> None:
    text = data_file("config.toml").read_text()
    assert load_config(data_file("config.toml")) == Config()
    for section, model in Config.model_fields.items():
        assert section in text, section
        annotation = model.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            for key in annotation.model_fields:
                if key not in ("scope", "spec", "implement", "review"):
                    assert f"{key} =" in text, f"{section}.{key} is not in the config template"
    for key in ("temperature", "top_p", "top_k", "effort", "thinking", "max_tokens", "max_retries"):
        assert f"{key} " in text


def test_gitignore_line_added_once_and_existing_content_kept(repo: Path) -> None:
    (repo / ".gitignore").write_text("*.pyc")  # no trailing newline
    run("init")
    run("init")
    assert (repo / ".gitignore").read_text() == "*.pyc\n.specflow/cache/\n"


def test_second_init_leaves_config_untouched(repo: Path) -> None:
    run("init")
    config = repo / ".specflow" / "config.toml"
    config.write_text('model = "mine"\n')
    result = run("init")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        ".specflow/config.toml exists; left untouched "
        "(`specflow init --force` rewrites it and keeps a backup)"
    )
    assert config.read_text() == 'model = "mine"\n'


def test_init_force_keeps_a_backup(repo: Path) -> None:
    run("init")
    config = repo / ".specflow" / "config.toml"
    config.write_text('model = "mine"\n')
    result = run("init", "--force")
    assert result.exit_code == 0
    backups = list((repo / ".specflow").glob("config.toml.*.bak"))
    assert len(backups) == 1
    assert backups[0].read_text() == 'model = "mine"\n'
    assert f"kept the old config as .specflow/{backups[0].name}" in result.output
    assert config.read_text() == data_file("config.toml").read_text()


def test_init_eject_copies_templates_and_rules(repo: Path) -> None:
    result = run("init", "--eject")
    assert result.exit_code == 0
    assert (repo / ".specflow/templates/scope.md.j2").is_file()
    assert (repo / ".specflow/templates/spec-template.md").is_file()
    assert (repo / ".specflow/rules/rules.md").is_file()
    assert (repo / ".specflow/rules/engineering-standards.md").is_file()
    (repo / ".specflow/rules/rules.md").write_text("# ours\n")
    again = run("init", "--eject")
    assert ".specflow/rules/rules.md exists; kept the project's version" in again.output
    assert (repo / ".specflow/rules/rules.md").read_text() == "# ours\n"


def test_new_creates_task_and_makes_it_current(repo: Path) -> None:
    (repo / "docs").mkdir()
    (repo / "docs" / "schema.sql").write_text("CREATE TABLE jobs (id int);\n")
    result = run(
        "new", "Prometheus exporter for the Oracle job table", "--context", "docs/schema.sql"
    )
    assert result.exit_code == 0
    slug = "prometheus-exporter-for-the-oracle-job"
    assert result.stdout == (
        f"Created task {slug} (.specflow/tasks/{slug}/describe.md)\nNext: specflow scope\n"
    )
    folder = repo / ".specflow" / "tasks" / slug
    task = json.loads((folder / "task.json").read_text())
    assert task["state"] == "described"
    assert task["context"] == ["docs/schema.sql"]
    describe = (folder / "describe.md").read_text()
    assert describe.startswith("## Description\n\nPrometheus exporter for the Oracle job table\n")
    assert "untrusted data" in describe
    assert "### `docs/schema.sql`\n\n```sql\nCREATE TABLE jobs (id int);\n```\n" in describe
    assert (repo / ".specflow" / "current").read_text() == slug + "\n"


def test_describe_md_reads_back_description_and_context_files() -> None:
    from specflow.stages.describe import ContextFile, parse_describe, render_describe

    context = [
        ContextFile("docs/schema.sql", "CREATE TABLE jobs (id int);\n"),
        # A file that itself holds fences, headings and specflow's own section names.
        ContextFile("notes/é.md", "## Context\n\n### `x`\n\n```py\nprint(1)\n```\n"),
        ContextFile("empty.txt", ""),
    ]
    description = "Exporter for the job table.\n\n### A heading of the user's\n\nMore."
    back = parse_describe(render_describe(description, context))
    assert back.description == description
    assert back.context == context


def test_slug_rules() -> None:
    assert slugify("Add   Retry/Backoff to the UPLOADER!") == "add-retry-backoff-to-the-uploader"
    assert slugify("Ünïcödé façade café") == "unicode-facade-cafe"
    long = slugify("word " * 30)
    assert len(long) <= 40 and not long.endswith("-")
    assert slugify("!!!") == "task"


def test_slug_made_unique(repo: Path) -> None:
    for _ in range(3):
        assert run("new", "Fix the parser").exit_code == 0
    assert Workspace(repo).slugs() == ["fix-the-parser", "fix-the-parser-2", "fix-the-parser-3"]
    assert Workspace(repo).current_slug() == "fix-the-parser-3"


def test_new_with_name_and_describe_alias(repo: Path) -> None:
    assert run("describe", "Something long", "--name", "Short Name").exit_code == 0
    assert Workspace(repo).slugs() == ["short-name"]


@pytest.mark.parametrize("description", ["", "   \n\t "])
def test_new_refuses_an_empty_description(repo: Path, description: str) -> None:
    result = run("new", description)
    assert result.exit_code == 2
    assert "the description is empty" in result.stderr
    assert not (repo / ".specflow" / "tasks").exists()


def _no_task_created(repo: Path) -> bool:
    return Workspace(repo).slugs() == [] and not (repo / ".specflow" / "current").exists()


def test_context_missing_file(repo: Path) -> None:
    result = run("new", "Task", "--context", "nope.txt")
    assert result.exit_code == 2
    assert result.stderr == "error: --context nope.txt: no such file\n"
    assert _no_task_created(repo)


def test_context_binary_file(repo: Path) -> None:
    (repo / "blob.bin").write_bytes(b"\x89PNG\x00\x01\x02")
    result = run("new", "Task", "--context", "blob.bin")
    assert result.exit_code == 2
    assert result.stderr == "error: --context blob.bin: a binary file; attach text files only\n"
    assert _no_task_created(repo)


def test_context_outside_the_repository(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("hello\n")
    result = run("new", "Task", "--context", str(outside))
    assert result.exit_code == 2
    assert f"--context {outside}: outside the repository" in result.stderr
    assert _no_task_created(repo)


def test_context_symlink_escaping_the_repository(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("hello\n")
    (repo / "link.txt").symlink_to(outside)
    result = run("new", "Task", "--context", "link.txt")
    assert result.exit_code == 2
    assert "outside the repository" in result.stderr
    assert _no_task_created(repo)


def test_context_over_the_size_limit(repo: Path) -> None:
    (repo / ".specflow").mkdir()
    (repo / ".specflow" / "config.toml").write_text("[context]\nmax_file_bytes = 10\n")
    (repo / "big.txt").write_text("x" * 11)
    result = run("new", "Task", "--context", "big.txt")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --context big.txt: 11 bytes, over the 10-byte limit ([context] "
        "max_file_bytes in .specflow/config.toml); attach an excerpt instead\n"
    )
    assert _no_task_created(repo)


def test_one_bad_context_among_good_ones_creates_nothing(repo: Path) -> None:
    (repo / "good.txt").write_text("fine\n")
    result = run("new", "Task", "--context", "good.txt", "--context", "missing.txt")
    assert result.exit_code == 2
    assert _no_task_created(repo)


def test_status_text_and_json(repo: Path) -> None:
    assert run("status").output == 'No tasks yet. Start one with: specflow new "DESCRIPTION"\n'
    run("new", "First task")
    run("new", "Second task")
    text = run("status").output.splitlines()
    assert text == [
        "  first-task   described     -           describe.md",
        "* second-task  described     -           describe.md",
    ]
    data = json.loads(run("status", "--json").output)
    assert [(t["slug"], t["state"], t["artifacts"], t["current"]) for t in data["tasks"]] == [
        ("first-task", "described", ["describe.md"], False),
        ("second-task", "described", ["describe.md"], True),
    ]
    assert all(t["created"] for t in data["tasks"])


def test_use_switches_and_unknown_lists_known(repo: Path) -> None:
    run("new", "First task")
    run("new", "Second task")
    assert run("use", "first-task").output == "Current task: first-task\n"
    assert Workspace(repo).current_slug() == "first-task"
    result = run("use", "third")
    assert result.exit_code == 2
    assert result.stderr == "error: no task `third`; known tasks: first-task, second-task\n"


def test_show_prints_artifacts(repo: Path) -> None:
    run("new", "Show me")
    result = run("show")
    assert result.exit_code == 0
    assert result.output.startswith("## Description\n\nShow me\n")
    assert run("show", "describe", "--task", "show-me").output == result.output
    missing = run("show", "spec")
    assert missing.exit_code == 2
    assert missing.stderr == (
        "error: task `show-me` has no spec yet (.specflow/tasks/show-me/spec.md); "
        "it has: describe\n"
    )


def test_commands_without_a_current_task(repo: Path) -> None:
    result = run("show")
    assert result.exit_code == 2
    assert "no current task" in result.stderr


# -- config ----------------------------------------------------------------------------------


def _write_config(repo: Path, text: str) -> Path:
    path = repo / ".specflow" / "config.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_config_syntax_error_names_file_and_line(repo: Path) -> None:
    _write_config(repo, 'provider = "auto"\nmodel = \n')
    result = run("new", "Task")
    assert result.exit_code == 2
    assert ".specflow/config.toml: not valid TOML" in result.stderr
    assert "line 2" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model = \n", "not valid TOML"),
        ("[stages.scope]\ntemprature = 0.5\n", "unknown key `stages.scope.temprature`"),
        ("[review]\nthreshold = 3\n", "`review.threshold`"),
        (
            '[stages.review]\nhistory = "whole"\ntest_command = "pytest"\n',
            "[stages.review] sets history, test_command, which only the implement stage uses; "
            "move it to [stages.implement]",
        ),
    ],
    ids=["syntax", "unknown-key", "wrong-type", "implement-only-key"],
)
def test_status_reports_a_broken_config(repo: Path, text: str, expected: str) -> None:
    _write_config(repo, text)
    result = run("status")
    assert result.exit_code == 2
    assert ".specflow/config.toml" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_implement_only_keys_are_taken_under_implement(repo: Path) -> None:
    _write_config(repo, '[stages.implement]\nhistory = "whole"\ntest_command = "pytest"\n')
    assert run("status").exit_code == 0  # the near miss: the same keys where they belong


def test_config_unknown_key_suggests_nearest(repo: Path) -> None:
    path = _write_config(repo, "[stages.scope]\ntemprature = 0.5\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(exc.value) == (
        f"{path}: invalid configuration\n"
        "  - unknown key `stages.scope.temprature`; did you mean `stages.scope.temperature`?"
    )


def test_config_unknown_section_suggests_nearest(repo: Path) -> None:
    path = _write_config(repo, "[anchorng]\nenabled = true\n")
    with pytest.raises(ConfigError, match=r"unknown key `anchorng`; did you mean `anchoring`\?"):
        load_config(path)


def test_config_wrong_type(repo: Path) -> None:
    _write_config(repo, '[review]\nthreshold = "SEVERE"\n')
    result = run("new", "Task")
    assert result.exit_code == 2
    assert (
        "`review.threshold`: Input should be 'BLOCKER', 'MAJOR', 'MINOR' or 'NIT'" in result.stderr
    )
    assert "(got 'SEVERE')" in result.stderr


def test_env_overrides_file_and_flags_override_env(repo: Path) -> None:
    path = _write_config(repo, 'provider = "openai"\nmodel = "from-file"\n')
    assert load_config(path, {}).model == "from-file"
    env = {"SPECFLOW_MODEL": "from-env", "SPECFLOW_PROVIDER": "handoff"}
    assert load_config(path, env).model == "from-env"
    assert load_config(path, env).provider == "handoff"
    assert load_config(path, env, provider="anthropic", model="from-flag").model == "from-flag"
    bad = {"SPECFLOW_PROVIDER": "nonsense"}
    with pytest.raises(ConfigError) as raised:
        load_config(path, bad)
    assert str(raised.value) == (
        "the environment variable SPECFLOW_PROVIDER: invalid configuration\n"
        "  - `SPECFLOW_PROVIDER`: Input should be 'auto', 'anthropic', 'openai' or 'handoff' "
        "(got 'nonsense')"
    )
    assert str(path) not in str(raised.value)
    # a bad value in the file is still reported against the file
    broken = _write_config(repo, 'provider = "nonsense"\n')
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(broken))}: invalid configuration"):
        load_config(broken, {"SPECFLOW_MODEL": "fine"})


# -- task store --------------------------------------------------------------------------------


def test_transition_out_of_order_names_the_command() -> None:
    task = Task(slug="t", title="t")
    with pytest.raises(StateError) as exc:
        task.move_to("implementing")
    assert str(exc.value) == (
        "task `t` is described; it cannot become implementing from there. "
        "Run `specflow scope` first."
    )
    task.move_to("scoped")
    with pytest.raises(StateError, match="Run `specflow spec` first"):
        task.move_to("implementing")


def test_corrupt_task_json(repo: Path) -> None:
    run("new", "Broken task")
    task_json = repo / ".specflow/tasks/broken-task/task.json"
    task_json.write_text("{not json")
    describe = (repo / ".specflow/tasks/broken-task/describe.md").read_text()
    result = run("status")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: .specflow/tasks/broken-task/task.json is corrupt")
    assert task_json.read_text() == "{not json"
    assert (repo / ".specflow/tasks/broken-task/describe.md").read_text() == describe


def test_atomic_write_keeps_old_content_when_replace_fails(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from specflow.store import fsutil

    target = repo / "file.txt"
    target.write_text("old\n")

    def broken(*_args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(fsutil.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        fsutil.atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in repo.iterdir() if p.name.startswith(".file")) == []


def test_interrupt_exits_130(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from specflow.store import workspace

    def interrupted(*_args: object) -> list[str]:
        raise KeyboardInterrupt

    monkeypatch.setattr(workspace.Workspace, "slugs", interrupted)
    result = run("status")
    assert result.exit_code == 130
    assert result.stderr == "interrupted\n"


def test_home_is_guarded() -> None:
    with pytest.raises(AssertionError, match="home directory"):
        Path.home()
    assert not os.path.isdir(os.environ["HOME"])


def test_a_stage_table_changes_only_the_keys_it_sets(repo: Path) -> None:
    path = _write_config(repo, '[stages.scope]\ntop_k = 40\n\n[stages.review]\neffort = "max"\n')
    config = load_config(path, {})
    assert (config.stages.scope.temperature, config.stages.scope.effort) == (0.8, "high")
    assert config.stages.scope.top_k == 40
    assert config.stages.review.effort == "max" and config.stages.review.temperature == 0.0
    assert config.stages.implement.max_tokens == 32000


# -- the store owns .specflow/ ----------------------------------------------------------------


def test_workspace_spells_every_path_under_specflow(repo: Path) -> None:
    ws = Workspace(repo)
    task = Task(slug="demo", title="Demo")
    home = ws.task_dir("demo")
    assert ws.transcript_path(task) == home / "transcript.jsonl"
    assert ws.transcript_path(None) == repo / ".specflow/cache/review/transcript.jsonl"
    assert ws.conversation_path(task) == home / "conversations/implement.json"
    assert ws.written_copy_path(task, "src/a.py") == home / "written/src/a.py"
    assert ws.stage_home(task, "spec") == home
    assert ws.stage_home(task, "review") == ws.review_cache_dir == repo / ".specflow/cache/review"
    assert ws.handoff_reply_path(task, "scope") == home / "handoff/scope.reply.md"
    assert ws.attempts_dir(home) == home / "attempts"
    assert ws.lock_path(task) == home / "lock"
    assert re.fullmatch(r"rounds/spec-\d{8}T\d{6}Z\.md", ws.spec_round_name())


def test_backup_paths_never_collide(repo: Path) -> None:
    ws = Workspace(repo)
    task = Task(slug="demo", title="Demo")
    first = ws.backup_path(task, "src/a.py")
    assert re.fullmatch(r"a\.py\.\d{8}T\d{6}Z", first.name)
    assert first.parent == ws.task_dir("demo") / "backups/src"
    ws.write_bytes(first, b"one\r\n")
    second = ws.backup_path(task, "src/a.py")
    assert second != first and second.name.startswith(first.name + "-")
    assert first.read_bytes() == b"one\r\n"


def test_the_cache_gitignore_is_written_once_and_kept(repo: Path) -> None:
    ws = Workspace(repo)
    ws.ensure_cache_ignored()
    ignore = repo / ".specflow/cache/.gitignore"
    assert ignore.read_text().splitlines()[-1] == "*"
    ignore.write_text("*\n!keep.json\n")  # the user's own rules are left alone
    ws.ensure_cache_ignored()
    assert ignore.read_text() == "*\n!keep.json\n"


def test_transcript_appends_keep_earlier_lines(repo: Path) -> None:
    ws = Workspace(repo)
    task = Task(slug="demo", title="Demo")
    ws.append_transcript(task, '{"n": 1}')
    ws.append_transcript(task, '{"n": 2}\n')
    assert ws.transcript_path(task).read_text() == '{"n": 1}\n{"n": 2}\n'


def _disk_full(monkeypatch: pytest.MonkeyPatch, code: int = errno.ENOSPC) -> None:
    """Every write through the store fails as a full (or read-only) disk would make it."""
    from specflow.store import fsutil

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fsutil.tempfile, "mkstemp", refuse)


def test_a_failed_transcript_append_leaves_the_old_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from specflow.store.fsutil import StoreWriteError

    ws = Workspace(repo)
    task = Task(slug="demo", title="Demo")
    ws.append_transcript(task, '{"n": 1}')
    _disk_full(monkeypatch)
    with pytest.raises(StoreWriteError, match="No space left on device") as caught:
        ws.append_transcript(task, '{"n": 2}')
    assert isinstance(caught.value, OSError)  # optional writes that skip on OSError still do
    assert ws.transcript_path(task).read_text() == '{"n": 1}\n'


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_new_on_a_full_or_read_only_disk_exits_2_with_path_and_reason(
    repo: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    assert run("init").exit_code == 0
    _disk_full(monkeypatch, code)
    result = CliRunner().invoke(cli, ["new", "Exporter", "--name", "demo"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"cannot write {repo}/.specflow/tasks/demo/" in result.stderr
    assert os.strerror(code) in result.stderr
    assert not (repo / ".specflow/tasks/demo").exists()  # nothing half-made is left


@pytest.mark.parametrize("stage", ["scope", "spec"])
def test_a_stage_on_a_full_disk_leaves_no_empty_transcript(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    assert run("new", "Exporter", "--name", "demo").exit_code == 0
    task = repo / ".specflow/tasks/demo"
    if stage == "spec":
        (tmp_path / "scope.md").write_text(SCOPE_REPLY)
        assert run("scope", "--reply", str(tmp_path / "scope.md")).exit_code == 0
        for n in range(1, 6):
            assert run("answer", str(n), f"answer {n}").exit_code == 0
        (task / "transcript.jsonl").unlink()
    reply = tmp_path / "reply.md"
    reply.write_text(SCOPE_REPLY if stage == "scope" else SPEC_REPLY)
    _disk_full(monkeypatch)
    result = CliRunner().invoke(cli, [stage, "--reply", str(reply)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "No space left on device" in result.stderr
    assert not (task / "transcript.jsonl").exists()
    assert not (task / f"{stage}.md").exists()


def test_read_only_specflow_as_an_ordinary_user(tmp_path: Path) -> None:
    """A real read-only folder: specflow runs as `nobody` against a .specflow/ it cannot write."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run specflow as another user")
    as_nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
    probe = subprocess.run([*as_nobody, "-c", "import specflow"], capture_output=True, text=True)
    if probe.returncode != 0:  # e.g. a virtual environment inside a folder only root can read
        pytest.skip(f"`nobody` cannot import specflow from {sys.executable}: {probe.stderr}")
    root = Path(tempfile.mkdtemp(prefix="specflow-ro-"))  # /tmp itself: `nobody` can reach it
    try:
        os.chmod(root, 0o755)
        git(root, "init", "-q", "-b", "main")
        env = {**os.environ, "HOME": str(root / "nohome")}
        subprocess.run(
            [sys.executable, "-m", "specflow", "new", "Exporter", "--name", "demo"],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )
        for path in [root, *root.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)  # readable, writable by root only
        reply = root / "scope-reply.md"
        reply.write_text(SCOPE_REPLY)
        os.chmod(reply, 0o644)
        done = subprocess.run(
            [*as_nobody, "-m", "specflow", "scope", "--reply", str(reply)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        # the stage's first write is the task's stage lock
        assert f"error: cannot write {root}/.specflow/tasks/demo/lock" in done.stderr
        assert "Permission denied" in done.stderr
        assert not (root / ".specflow/tasks/demo/transcript.jsonl").exists()
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- one stage at a time per task ---------------------------------------------------------------

HOLDER = """\
import sys
from pathlib import Path
from specflow.store.task import Task
from specflow.store.workspace import Workspace
ws = Workspace(Path(sys.argv[1]))
with ws.stage_lock(Task(slug="demo", title="Demo"), "specflow scope"):
    print("held", flush=True)
    sys.stdin.read()  # hold until the test closes stdin (or kills us)
"""


def _holder(repo: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(repo)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    return proc


def test_a_second_stage_on_a_busy_task_exits_2_naming_the_holder(repo: Path) -> None:
    from specflow.store.lock import TaskBusy

    ws = Workspace(repo)
    task = Task(slug="demo", title="Demo")
    proc = _holder(repo)
    try:
        with pytest.raises(TaskBusy) as caught, ws.stage_lock(task, "specflow spec"):
            pass
        assert str(caught.value) == (
            f"task `demo` is busy: `specflow scope` (pid {proc.pid}) is running. Wait for it "
            f"to finish and run the command again; or stop it with `kill {proc.pid}`."
        )
        assert caught.value.exit_code == 2
    finally:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        proc.wait()
        proc.stdout.close()
    with ws.stage_lock(task, "specflow spec"):  # released when the holder finished
        assert json.loads((ws.lock_path(task).with_name("lock.holder.json")).read_text()) == {
            "command": "specflow spec",
            "pid": os.getpid(),
        }
    assert not ws.lock_path(task).with_name("lock.holder.json").exists()


def test_a_holder_killed_with_sigkill_leaves_the_task_unlocked(repo: Path) -> None:
    ws = Workspace(repo)
    task = Task(slug="demo", title="Demo")
    proc = _holder(repo)
    proc.kill()  # SIGKILL: no finally block runs, the holder record stays behind
    proc.wait()
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.stdout.close()
    stale = ws.lock_path(task).with_name("lock.holder.json")
    assert json.loads(stale.read_text())["pid"] == proc.pid
    with ws.stage_lock(task, "specflow implement --file a.py"):
        assert json.loads(stale.read_text())["pid"] == os.getpid()


def test_one_process_cannot_take_its_own_task_lock_twice(repo: Path) -> None:
    from specflow.store.lock import TaskBusy

    ws = Workspace(repo)
    task = Task(slug="demo", title="Demo")
    with ws.stage_lock(task, "specflow scope"), pytest.raises(TaskBusy, match=r"\(pid \d+\)"):
        with ws.stage_lock(task, "specflow spec"):
            pass


# -- context files ------------------------------------------------------------------------------


def test_context_fifo_is_refused_at_once(repo: Path) -> None:
    os.mkfifo(repo / "pipe")
    result = run("new", "Exporter", "--context", "pipe")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --context pipe: is a FIFO (named pipe), not a regular file; attach a file "
        "whose content can be read once (save its output to a file first)\n"
    )
    assert not (repo / ".specflow/tasks").exists() or not any((repo / ".specflow/tasks").iterdir())


def test_context_socket_and_device_are_refused(repo: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(repo / "sock"))
        result = run("new", "Exporter", "--context", "sock")
    assert result.exit_code == 2
    assert "--context sock: is a socket, not a regular file" in result.stderr
    result = run("new", "Exporter", "--context", "/dev/null")
    assert result.exit_code == 2  # outside the repository: refused before anything is read
    os.symlink("/dev/null", repo / "null")
    result = run("new", "Exporter", "--context", "null")
    assert result.exit_code == 2


def test_context_character_device_inside_the_repository(repo: Path) -> None:
    # A device node cannot be made without privileges everywhere; check the mode table.
    from specflow.stages.describe import _special_kind, read_context

    assert _special_kind(stat.S_IFCHR | 0o644) == "character device"
    assert _special_kind(stat.S_IFBLK | 0o644) == "block device"
    assert _special_kind(stat.S_IFREG | 0o644) is None
    (repo / "plain.txt").write_text("text\n")
    assert read_context(repo, "plain.txt", 1000).content == "text\n"


def test_context_name_with_a_newline_is_refused(repo: Path) -> None:
    (repo / "two\nlines.md").write_text("text\n")
    result = run("new", "Exporter", "--context", "two\nlines.md")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --context 'two\\nlines.md': the path contains a line")
    assert "rename the file" in result.stderr


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("café “quoted”\n".encode("cp1252"), "WINDOWS-1252"),
        ("café\n".encode("latin-1"), "ISO-8859-1"),
        ("café\n".encode("utf-16"), "UTF-16LE"),
    ],
)
def test_context_not_utf8_names_its_encoding_and_the_fix(
    repo: Path, data: bytes, encoding: str
) -> None:
    (repo / "notes.txt").write_bytes(data)
    result = run("new", "Exporter", "--context", "notes.txt")
    assert result.exit_code == 2
    assert f"it looks like {encoding}." in result.stderr
    assert f"`iconv -f {encoding} -t UTF-8 notes.txt > notes.txt.utf8`" in result.stderr


def test_context_utf8_with_accents_is_accepted(repo: Path) -> None:
    (repo / "notes.txt").write_text("café “quoted”\n", encoding="utf-8")
    assert run("new", "Exporter", "--context", "notes.txt").exit_code == 0


def test_clicks_own_usage_errors_use_the_error_style(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from specflow.cli import run as main

    # click words its own messages differently from release to release ("No such option:
    # --bogus" or "No such option '--bogus'"): the style around them is what is specflow's.
    monkeypatch.setattr("sys.argv", ["specflow", "status", "--bogus"])
    assert main() == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No such option") and "--bogus" in err
    assert err.endswith("; see `specflow status --help`\n") and err.count("\n") == 1
    monkeypatch.setattr("sys.argv", ["specflow", "use"])
    assert main() == 2
    err = capsys.readouterr().err
    assert err.startswith("error: Missing argument") and "SLUG" in err
    assert err.endswith("; see `specflow use --help`\n") and err.count("\n") == 1
    assert "Usage:" not in err


def test_new_before_init_says_to_run_init(repo: Path) -> None:
    result = run("new", "First task")
    assert result.exit_code == 0
    assert result.stderr == (
        "note: specflow is not set up here yet (no .specflow/config.toml), so the task uses the "
        "default settings; run `specflow init` to write the config and ignore .specflow/cache/.\n"
    )
    assert run("init").exit_code == 0
    assert run("new", "Second task").stderr == ""


def test_the_stage_lock_is_not_listed_as_an_artifact(repo: Path, tmp_path: Path) -> None:
    assert run("new", "Exporter", "--name", "demo").exit_code == 0
    reply = tmp_path / "scope.md"
    reply.write_text(SCOPE_REPLY)
    assert run("scope", "--reply", str(reply)).exit_code == 0
    assert (repo / ".specflow/tasks/demo/lock").exists()  # the stage held it
    (row,) = json.loads(run("status", "--json").stdout)["tasks"]
    assert row["artifacts"] == ["answers.md", "describe.md", "scope.md", "transcript.jsonl"]


def test_input_that_is_not_utf8_is_a_usage_error_not_a_crash(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from specflow.cli import run as main

    # An argument the locale could not decode (Python keeps the byte as a lone surrogate).
    monkeypatch.setattr("sys.argv", ["specflow", "new", "desc \udcff"])
    assert main() == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
    assert not (repo / ".specflow" / "tasks").exists()  # nothing was created
    assert run("new", "Exporter", "--name", "demo").exit_code == 0
    for argv in (["scope", "--reply", "-"], ["answer"]):
        result = run(*argv, input=b"\xff\xfe\n")
        assert result.exit_code == 2, argv
        assert result.stderr == "error: <stdin>: not UTF-8 text\n"
    left = {p.name for p in (repo / ".specflow/tasks/demo").iterdir()} - {"lock"}
    assert left == {"describe.md", "task.json"}  # nothing written, no round moved aside
    folder = run("scope", "--reply", str(repo))
    assert (folder.exit_code, "is a folder" in folder.stderr) == (2, True)
