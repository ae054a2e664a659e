"""The secret scanner's recall, precision and speed, beside detect-secrets where it installs.

    python -m bench.secrets [--runs N] [--show N] [--no-compare]

(a) Recall on the fake-secret corpus (tests/secrets/corpus.toml, expanded with a seeded
    generator): a case counts when the scanner reports it and none of its random characters
    survive redaction. Target: at least 95 %. The corpus's near misses (placeholders,
    references) are scanned too: each finding there is a false positive.
(b) False positives on the Python standard library of this interpreter (every *.py file, the
    test suite included), which holds no real secret. Target: at most 1 per 100,000 lines.
(c) Throughput on diff text: the standard library's files as one `git diff` of added files,
    through parse_diff + redact_diff, the gate's path. Target: at least 20 MB/s.
(d) Diff parsers: specflow's own parse_diff against the `unidiff` package, where installed:
    renames, binary files, "\\ No newline at end of file" and quoted paths, then the time to
    parse the 5,000-line change of bench/review.py and the standard-library diff of (c).

detect-secrets (PyPI), where installed, runs on (a) and (b) in the same process with its
default plugins. gitleaks ships as a Go binary; it is not installable from PyPI, npm or
Debian's packages here, so it is not compared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

from specflow.gitx.diffs import parse_diff
from specflow.gitx.secrets import redact, redact_diff
from tests.secrets import Case, load

RECALL_TARGET = 0.95
FP_PER_100K_TARGET = 1.0
MB_PER_S_TARGET = 20.0


def stdlib_files() -> list[tuple[str, str]]:
    """(relative path, text) of every .py file of this interpreter's standard library."""
    root = Path(sysconfig.get_paths()["stdlib"])
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if "site-packages" in rel or "dist-packages" in rel:
            continue
        try:
            out.append((rel, path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError):
            continue
    return out


def as_added_diff(files: list[tuple[str, str]]) -> str:
    """The files as one `git diff` that adds each of them."""
    parts = []
    for rel, text in files:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if not lines:
            continue
        parts.append(
            f"diff --git a/{rel} b/{rel}\nnew file mode 100644\n--- /dev/null\n+++ b/{rel}\n"
            f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{line}\n" for line in lines)
        )
    return "".join(parts)


def recall(cases: list[Case]) -> tuple[int, list[str]]:
    found, missed = 0, []
    for case in cases:
        result = redact(case.text + "\n", case.path or "case.txt", diff=False)
        if result.findings and not any(piece in result.text for piece in case.pieces):
            found += 1
        else:
            missed.append(f"{case.rule}: {case.text[:60]}")
    return found, missed


def near_miss_findings(cases: list[Case]) -> list[str]:
    hits = []
    for case in cases:
        result = redact(case.text + "\n", case.path or "case.txt", diff=False)
        hits.extend(f"{case.rule}: {finding}" for finding in result.findings)
    return hits


def stdlib_findings(files: list[tuple[str, str]]) -> list[str]:
    hits = []
    for rel, text in files:
        hits.extend(str(f) for f in redact(text, rel, diff=False).findings)
    return hits


def median_seconds(job: Callable[[], object], runs: int) -> float:
    return median_times(job, runs)[0]


def median_times(job: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of *job*: on a shared machine the CPU time is what
    the job itself costs, the wall time what a user waits."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        job()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


# --------------------------------------------------------------------------------------------
# detect-secrets


def detect_secrets_available() -> bool:
    try:
        import detect_secrets  # noqa: F401
    except ImportError:
        return False
    return True


def detect_secrets_scan(named_texts: list[tuple[str, str]]) -> list[tuple[str, int, str]]:
    """(name, line, type) of each secret detect-secrets finds, with its default plugins."""
    import os
    import tempfile

    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    hits: list[tuple[str, int, str]] = []
    with tempfile.TemporaryDirectory() as tmp, default_settings():
        paths = []
        for index, (name, text) in enumerate(named_texts):
            # Keep the case's file name: detect-secrets reads .env, .yaml, .json by suffix.
            path = Path(tmp, str(index), name.replace("/", "_"))
            path.parent.mkdir()
            path.write_text(text, encoding="utf-8")
            paths.append((name, str(path)))
        collection = SecretsCollection()
        for _, path in paths:
            collection.scan_file(path)
        by_path = {os.path.realpath(p): name for name, p in paths}
        for filename, secret in collection:
            name = by_path.get(os.path.realpath(filename), filename)
            hits.append((name, secret.line_number, secret.type))
    return hits


def detect_secrets_recall(cases: list[Case]) -> int:
    named = [(f"{i}-{Path(c.path or 'case.txt').name}", c.text + "\n") for i, c in enumerate(cases)]
    return len({name for name, _, _ in detect_secrets_scan(named)})


# --------------------------------------------------------------------------------------------
# Diff parsers


def review_bench_diff() -> str:
    """The 5,000-line change of bench/review.py, as the diff text git would print."""
    from bench.review import CHANGED_FILES, FILE_LINES, NEW_FILES, source

    files = []
    for n in range(NEW_FILES):
        lines = source(f"new{n}", FILE_LINES, "fresh")
        files.append(
            f"diff --git a/pkg/new_{n}.py b/pkg/new_{n}.py\nnew file mode 100644\n"
            f"--- /dev/null\n+++ b/pkg/new_{n}.py\n@@ -0,0 +1,{len(lines)} @@\n"
            + "".join(f"+{line}\n" for line in lines)
        )
    for n in range(CHANGED_FILES):
        old = source(f"old{n}", FILE_LINES // 2, "before")
        new = source(f"old{n}", FILE_LINES // 2, "after")
        files.append(
            f"diff --git a/pkg/changed_{n}.py b/pkg/changed_{n}.py\nindex 1111111..2222222 100644\n"
            f"--- a/pkg/changed_{n}.py\n+++ b/pkg/changed_{n}.py\n"
            f"@@ -1,{len(old)} +1,{len(new)} @@\n"
            + "".join(f"-{line}\n" for line in old)
            + "".join(f"+{line}\n" for line in new)
        )
    return "".join(files)


# What git prints for the cases the parser must cover: a rename, a binary file, a missing
# newline at the end, and a quoted path (a tab in the name).
EDGE_DIFF = (
    "diff --git a/move.txt b/moved.txt\nsimilarity index 100%\nrename from move.txt\n"
    "rename to moved.txt\n"
    "diff --git a/logo.png b/logo.png\nnew file mode 100644\nindex 0000000..1111111\n"
    "Binary files /dev/null and b/logo.png differ\n"
    "diff --git a/keep.txt b/keep.txt\nindex 1111111..2222222 100644\n--- a/keep.txt\n"
    "+++ b/keep.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n\\ No newline at end of file\n"
    'diff --git "a/tab\\there.txt" "b/tab\\there.txt"\nnew file mode 100644\n'
    'index 0000000..1111111\n--- /dev/null\n+++ "b/tab\\there.txt"\n@@ -0,0 +1 @@\n+tab\n'
)


def parser_coverage() -> None:
    """Which parser reads each edge case of EDGE_DIFF right."""
    import unidiff

    ours = {f.path: f for f in parse_diff(EDGE_DIFF)}
    theirs = {f.path: f for f in unidiff.PatchSet(EDGE_DIFF)}
    checks = {
        "rename": (
            ours["moved.txt"].old_path == "move.txt",
            "moved.txt" in theirs and theirs["moved.txt"].is_rename,
        ),
        "binary file": (ours["logo.png"].binary, theirs["logo.png"].is_binary_file),
        "no newline at end": (
            ours["keep.txt"].added == 1,
            theirs["keep.txt"].added == 1,
        ),
        "quoted path": ("tab\there.txt" in ours, "tab\there.txt" in theirs),
    }
    for label, (mine, other) in checks.items():
        print(
            f"  {label:<20} specflow {'ok' if mine else 'WRONG'}"
            f"   unidiff {'ok' if other else 'WRONG'}"
        )
    if "tab\there.txt" not in theirs:
        print(f"    unidiff names the quoted file {next(iter(set(theirs) - set(ours)))!r}")


def compare_parsers(texts: dict[str, str], runs: int) -> None:
    try:
        import unidiff
    except ImportError:
        print("unidiff: not installed (pip install unidiff); no comparison")
        return
    parser_coverage()
    for label, text in texts.items():
        ours = median_seconds(lambda text=text: parse_diff(text), runs)
        theirs = median_seconds(lambda text=text: unidiff.PatchSet(text), runs)
        mb = len(text.encode()) / 1e6
        print(
            f"  {label:<34} {mb:6.1f} MB   specflow parse_diff {ours * 1000:8.1f} ms"
            f"   unidiff.PatchSet {theirs * 1000:8.1f} ms   ({theirs / ours:.1f}x)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--show", type=int, default=20, help="findings to list at most")
    parser.add_argument(
        "--no-compare", action="store_true", help="skip detect-secrets (about 4 minutes here)"
    )
    args = parser.parse_args()
    fakes, clean = load("secret"), load("clean")
    files = stdlib_files()
    lines = sum(text.count("\n") for _, text in files)
    print(f"Python {sys.version.split()[0]} on {sys.platform}; corpus: {len(fakes)} secrets,")
    print(f"{len(clean)} near misses; standard library: {len(files)} files, {lines:,} lines\n")

    found, missed = recall(fakes)
    share = found / len(fakes)
    ok = "ok" if share >= RECALL_TARGET else "MISSED TARGET"
    print(f"(a) recall: {found}/{len(fakes)} = {share:.1%} (target >= 95%: {ok})")
    for line in missed:
        print(f"      missed {line}")
    near = near_miss_findings(clean)
    print(f"    near misses flagged: {len(near)} of {len(clean)}")
    for line in near[: args.show]:
        print(f"      {line}")

    hits = stdlib_findings(files)
    per_100k = len(hits) / lines * 100_000
    ok = "ok" if per_100k <= FP_PER_100K_TARGET else "MISSED TARGET"
    print(f"(b) standard library: {len(hits)} findings = {per_100k:.2f} per 100,000 lines ({ok})")
    for line in hits[: args.show]:
        print(f"      {line}")

    diff = as_added_diff(files)
    size = len(diff.encode()) / 1e6
    parsed = parse_diff(diff)
    for label, job in (
        ("parse_diff + redact_diff (the gate)", lambda: redact_diff(parse_diff(diff))),
        ("redact_diff alone (parsed once)", lambda: redact_diff(parsed)),
    ):
        wall, cpu = median_times(job, args.runs)
        ok = "ok" if size / cpu >= MB_PER_S_TARGET else "MISSED TARGET"
        print(
            f"(c) {label}: {size:.1f} MB of diff, median of {args.runs}: "
            f"{size / cpu:.1f} MB/s of CPU time ({ok}), {size / wall:.1f} MB/s wall-clock"
        )

    print("(d) diff parsers, median of", args.runs)
    compare_parsers(
        {"review bench (5,000 changed lines)": review_bench_diff(), "stdlib": diff}, args.runs
    )

    if args.no_compare:
        print("\ndetect-secrets: skipped (--no-compare)")
    elif not detect_secrets_available():
        print("\ndetect-secrets: not installed (pip install detect-secrets); no comparison")
    else:
        from importlib.metadata import version

        print(f"\ndetect-secrets {version('detect-secrets')}, default plugins, same corpora:")
        start = time.perf_counter()
        ds_found = detect_secrets_recall(fakes)
        ds_near = detect_secrets_recall(clean)
        print(f"    recall: {ds_found}/{len(fakes)} = {ds_found / len(fakes):.1%}")
        print(f"    near misses flagged: {ds_near} of {len(clean)}")
        ds_hits = detect_secrets_scan(files)
        print(
            f"    standard library: {len(ds_hits)} findings = "
            f"{len(ds_hits) / lines * 100_000:.2f} per 100,000 lines "
            f"(whole detect-secrets run {time.perf_counter() - start:.1f} s)"
        )
    print("\ngitleaks: a Go binary, not installable from PyPI, npm or Debian here; not compared")


if __name__ == "__main__":
    main()
