"""The wheel ships templates/ and rules/, and the installed entry points work."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.helpers import fresh_run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (found,) = out.glob("specflow-*.whl")
    return found


@pytest.mark.slow
def test_wheel_holds_templates_rules_and_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "specflow/_data/templates/scope.md.j2",
        "specflow/_data/templates/spec.md.j2",
        "specflow/_data/templates/spec-template.md",
        "specflow/_data/templates/reanchor.md.j2",
        "specflow/_data/templates/agents/claude-command.md.j2",
        "specflow/_data/templates/agents/gemini-command.toml.j2",
        "specflow/_data/templates/agents/steps-implement.md.j2",
        "specflow/_data/rules/rules.md",
        "specflow/_data/rules/engineering-standards.md",
        "specflow/data/config.toml",
        "specflow/data/capabilities.toml",
    ):
        assert required in names, required
    assert not any(n.startswith(("templates/", "rules/", "tests/")) for n in names)


@pytest.mark.slow
def test_plain_install_finds_its_packaged_templates(wheel: Path, tmp_path: Path) -> None:
    """A non-editable install, away from the source tree, uses the copies inside the wheel."""
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import specflow.resources as r; print(r.packaged_folder('templates')); "
            "print(r.packaged_folder('rules'))",
        ],
        cwd=workdir,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    templates, rules = probe.stdout.splitlines()
    assert templates == str(target / "specflow" / "_data" / "templates")
    assert rules == str(target / "specflow" / "_data" / "rules")
    # and it uses them: check a reply against the packaged spec template's contract
    reply = workdir / "scope.md"
    reply.write_text("## Scoping Questions\n\n1. Only one?\n")
    result = subprocess.run(
        [sys.executable, "-m", "specflow", "check", "scope", str(reply)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr
    assert "violation" in result.stderr


def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "specflow"
    assert script.exists(), "the console script is not installed next to the interpreter"
    for command in ([str(script), "--version"], [sys.executable, "-m", "specflow", "--version"]):
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "specflow 0.1.0\n"


def test_entry_point_exit_code_outside_a_repository(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "specflow", "status"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr == "error: specflow works inside a git repository; run `git init` first\n"


def test_help_imports_no_heavy_module(tmp_path: Path) -> None:
    heavy = ("anthropic", "openai", "git", "pydantic", "jinja2", "rich", "pyromark", "httpx")
    done = fresh_run(tmp_path, ["--help"], watch=(*heavy, "httpx2"))
    assert (done.codes, done.loaded) == ([0], [])
    assert "Usage: specflow" in done.output


def test_status_and_version_import_no_sdk(repo: Path) -> None:
    done = fresh_run(repo, ["--version"], ["status"], watch=("anthropic", "openai", "git"))
    assert (done.codes, done.loaded) == ([0, 0], [])


def test_check_runs_offline_without_any_sdk(tmp_path: Path) -> None:
    (tmp_path / "scope.md").write_text("## Scoping Questions\n\n1. Only one?\n")
    heavy = ("anthropic", "openai", "git", "jinja2")
    done = fresh_run(tmp_path, ["check", "scope", "scope.md"], watch=heavy)
    assert (done.codes, done.loaded) == ([1], [])
    assert "scope.md:1: `## Scoping Questions` has 1 question" in done.output


def test_check_of_a_valid_spec_and_scope_needs_no_pydantic(tmp_path: Path) -> None:
    from tests.support.samples import SCOPE_REPLY, SPEC_REPLY

    (tmp_path / "spec.md").write_text(SPEC_REPLY)
    (tmp_path / "scope.md").write_text(SCOPE_REPLY)
    done = fresh_run(
        tmp_path,
        ["check", "spec", "spec.md"],
        ["check", "scope", "scope.md"],
        watch=("pydantic", "specflow.contracts.models"),
    )
    assert (done.codes, done.loaded) == ([0, 0], [])
    assert "spec.md: holds the spec contract" in done.output
