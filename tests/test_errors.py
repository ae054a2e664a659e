"""Unexpected errors: a bug-report file and its path, never a bare traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from specflow import __version__
from specflow.errors import EXIT_BUG, UsageError, failure_exit
from tests.helpers import run


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _boom() -> None:
    raise RuntimeError("boom")


def test_a_bug_writes_a_report_and_prints_its_path(
    temp_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        _boom()
    except RuntimeError as exc:
        code = failure_exit(exc)
    assert code == EXIT_BUG
    err = capsys.readouterr().err
    (report,) = temp_folder.iterdir()
    assert report.name.startswith("specflow-bug-") and report.suffix == ".md"
    assert f"Please report it with {report}." in err
    assert "RuntimeError: boom" in err
    assert "Traceback" not in err  # the traceback is in the file, not on the terminal
    text = report.read_text()
    assert f"specflow: {__version__}" in text
    assert "python: 3." in text and "platform: " in text
    assert "anthropic: " in text and "pydantic: " in text
    assert "in _boom" in text and 'raise RuntimeError("boom")' in text


def test_an_expected_error_writes_no_report(
    temp_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert failure_exit(UsageError("bad flag")) == 2
    assert capsys.readouterr().err == "error: bad flag\n"
    assert list(temp_folder.iterdir()) == []


def test_without_a_writable_folder_the_traceback_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    try:
        _boom()
    except RuntimeError as exc:
        assert failure_exit(exc) == EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback" in err and "Please report it with the traceback above." in err


def test_a_bug_in_a_command_goes_through_the_same_path(
    temp_folder: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("specflow.store.workspace.Workspace.status_rows", lambda self: _boom())
    result = run("status")
    assert result.exit_code == EXIT_BUG
    (report,) = temp_folder.iterdir()
    assert str(report) in result.stderr
