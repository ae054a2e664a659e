"""`specflow secrets scan`: the secret scanner on its own, over files or the staged change.

Files are read as UTF-8 text; binary files (a NUL byte in the first 8 KiB), files that are not
UTF-8, `.git` folders and the records specflow writes already redacted (.specflow/tasks,
archive, cache) are skipped, each skip with its reason. The staged change is scanned as the
review gate scans it: only the lines it adds are findings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.errors import UsageError
from specflow.gitx.diffs import parse_diff
from specflow.gitx.secrets import SecretFinding, is_specflow_record, redact, redact_diff

_SNIFF_BYTES = 8192


@dataclass
class ScanReport:
    """What a scan found, how many files it read, and what it skipped and why."""

    findings: list[SecretFinding] = field(default_factory=list)
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def scan(cwd: Path, staged: bool, paths: Sequence[Path]) -> ScanReport:
    """`specflow secrets scan`: the staged change or *paths*, skipping allowed findings.

    The allowlist is the repository's holding *cwd*; outside a repository, paths are
    scanned without one.
    """
    if staged == bool(paths):
        raise UsageError(
            "give --staged or one or more PATHs to scan, not both"
            if staged
            else "give --staged or one or more PATHs to scan (`specflow secrets scan .`)"
        )
    from specflow.gitx.allowlist import load_allowlist
    from specflow.store.repo import find_root

    try:
        root: Path | None = Path(find_root(cwd))
    except UsageError:
        if staged:
            raise
        root = None
    allow = load_allowlist(root) if root is not None else frozenset()
    if staged and root is not None:
        from specflow.gitx.gitops import staged_diff

        return scan_diff(staged_diff(root), allow)
    return scan_paths(paths, allow)


def scan_paths(paths: Sequence[Path], allow: Iterable[str] = ()) -> ScanReport:
    """Scan files and folders (walked, `.git` left out); paths are shown as given."""
    allowed = frozenset(allow)
    report = ScanReport()
    for given in paths:
        if not given.exists():
            raise UsageError(f"{given}: no such file or folder; give paths that exist")
        for path in _walk(given):
            _scan_file(path, allowed, report)
    return report


def scan_diff(diff: str, allow: Iterable[str] = ()) -> ScanReport:
    """Scan a diff as the gate does: secrets on the lines it adds are findings."""
    files = parse_diff(diff)
    _, findings = redact_diff(files, allow)
    return ScanReport(findings=findings, files=len(files))


def _walk(given: Path) -> Iterator[Path]:
    if not given.is_dir():
        yield given
        return
    for folder, subfolders, names in os.walk(given):
        subfolders[:] = sorted(name for name in subfolders if name.lower() != ".git")
        for name in sorted(names):
            yield Path(folder, name)


def _scan_file(path: Path, allow: frozenset[str], report: ScanReport) -> None:
    shown = path.as_posix()
    if is_specflow_record(shown):
        report.skipped.append(
            (shown, "written by specflow: already redacted (or fingerprints only)")
        )
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        report.skipped.append((shown, f"cannot be read: {exc.strerror or exc}"))
        return
    if b"\0" in data[:_SNIFF_BYTES]:
        report.skipped.append((shown, "binary file"))
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        report.skipped.append((shown, "not UTF-8 text"))
        return
    report.files += 1
    report.findings.extend(redact(text, shown, diff=False, allow=allow).findings)


def format_report(report: ScanReport) -> str:
    """The findings, one a line with its id for `specflow secrets allow`, then a summary."""
    lines = [f"{finding}  id {finding.id}" for finding in report.findings]
    lines += [f"skipped {path}: {reason}" for path, reason in report.skipped]
    count = len(report.findings)
    if count:
        lines.append(
            f"{count} secret{'s' if count != 1 else ''} found in {report.files} "
            f"file{'s' if report.files != 1 else ''}. Move each into configuration (an "
            "environment variable) and rotate it if it was ever pushed; if one is not a "
            "secret, add `specflow: allow-secret` to its line or run "
            '`specflow secrets allow ID --reason "..."`'
        )
    else:
        files = f"{report.files} file{'s' if report.files != 1 else ''}"
        lines.append(f"no secrets found in {files}")
    return "\n".join(lines) + "\n"


def report_json(report: ScanReport) -> dict[str, Any]:
    """The report for `--json`: findings never hold the value, only its first characters."""
    return {
        "findings": [
            {
                "id": f.id,
                "rule": f.kind,
                "path": f.path,
                "line": f.line,
                "name": f.name,
                "preview": f.preview,
            }
            for f in report.findings
        ],
        "files": report.files,
        "skipped": [{"path": path, "reason": reason} for path, reason in report.skipped],
    }
