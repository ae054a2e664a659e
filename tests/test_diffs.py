"""diffs, excludes, chunks: parsing git's diff output, filtering what review skips, splitting
to a budget."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from specflow.gitx.chunks import split_for_budget
from specflow.gitx.diffs import (
    NOT_CONTENT,
    Chunk,
    DiffParseError,
    FileDiff,
    LineRoles,
    parse_diff,
    unquote_path,
)
from specflow.gitx.excludes import filter_files
from specflow.gitx.gitops import staged_diff
from specflow.tokens import estimate_tokens
from tests.conftest import git

# --------------------------------------------------------------------------------------------
# Helpers


def file_diff(path: str, hunks: list[list[str]], start: int = 1) -> str:
    """A modified file's diff text whose hunks hold the given body lines."""
    out = [
        f"diff --git a/{path} b/{path}",
        f"index {'1' * 40}..{'2' * 40} 100644",
        f"--- a/{path}",
        f"+++ b/{path}",
    ]
    old = new = start
    for body in hunks:
        old_n = sum(1 for line in body if line[:1] in (" ", "-"))
        new_n = sum(1 for line in body if line[:1] in (" ", "+"))
        out.append(f"@@ -{old},{old_n} +{new},{new_n} @@ def f():")
        out.extend(body)
        old += old_n + 10
        new += new_n + 10
    return "\n".join(out) + "\n"


def big_diff(files: int = 50, lines_per_file: int = 100) -> str:
    """A diff of *files* files with *lines_per_file* body lines each, in 5 hunks per file."""
    texts = []
    for f in range(files):
        hunks = []
        per = lines_per_file // 5
        for h in range(5):
            body = [f" context {f}.{h}.{i}" for i in range(per // 2)]
            body += [f"-removed {f}.{h}.{i} " + "x" * 30 for i in range(per // 4)]
            body += [f"+added {f}.{h}.{i} " + "y" * 30 for i in range(per - len(body))]
            hunks.append(body)
        texts.append(file_diff(f"src/pkg{f % 7}/module_{f}.py", hunks))
    return "".join(texts)


def body_lines(chunks: list[Chunk]) -> list[str]:
    """Every hunk body line of every chunk, in order (headers excluded)."""
    out: list[str] = []
    for chunk in chunks:
        for file in parse_diff(chunk.text):
            for hunk in file.hunks:
                out.extend(hunk.lines)
    return out


def assert_hunk_counts_true(text: str) -> None:
    """Every hunk's header counts match its body: the text is a valid diff."""
    for file in parse_diff(text):
        for hunk in file.hunks:
            old = sum(1 for line in hunk.lines if line[:1] in (" ", "-"))
            new = sum(1 for line in hunk.lines if line[:1] in (" ", "+"))
            assert (old, new) == (hunk.old_count, hunk.new_count), hunk.header


# --------------------------------------------------------------------------------------------
# Parsing real git output


@pytest.fixture
def staged(repo: Path) -> list[FileDiff]:
    """A staged change with a binary file, renames, a deletion, a mode change and odd names."""
    (repo / "keep.txt").write_text("one\ntwo\nthree\n")
    (repo / "gone.txt").write_text("bye\n")
    (repo / "move.txt").write_text("alpha\nbeta\ngamma\ndelta\nepsilon\n")
    (repo / "edit-move.txt").write_text("".join(f"line {i}\n" for i in range(20)))
    (repo / "run.sh").write_text("echo hi\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    (repo / "keep.txt").write_text("one\nTWO\nthree")  # and no newline at the end now
    git(repo, "rm", "-q", "gone.txt")
    git(repo, "mv", "move.txt", "moved.txt")
    git(repo, "mv", "edit-move.txt", "edited and moved.txt")
    (repo / "edited and moved.txt").write_text(
        "".join(f"line {i}\n" for i in range(20)).replace("line 10", "line ten")
    )
    (repo / "run.sh").chmod(0o755)
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (repo / "Cargo.lock").write_text("[[package]]\nname = 'x'\n")
    (repo / "with space.txt").write_text("spaced\n")
    (repo / "tab\there.txt").write_text("tabbed\n")
    git(repo, "add", "-A")
    return parse_diff(staged_diff(repo))


def by_path(files: list[FileDiff]) -> dict[str, FileDiff]:
    return {file.path: file for file in files}


def test_binary_file_is_detected(staged: list[FileDiff]) -> None:
    logo = by_path(staged)["logo.png"]
    assert (logo.status, logo.binary, logo.hunks, logo.new_mode) == ("added", True, (), "100644")
    assert "Binary files /dev/null and b/logo.png differ\n" in logo.text


def test_pure_rename(staged: list[FileDiff]) -> None:
    moved = by_path(staged)["moved.txt"]
    assert (moved.old_path, moved.status, moved.hunks, moved.added, moved.removed) == (
        "move.txt",
        "renamed",
        (),
        0,
        0,
    )


def test_rename_with_changes_and_a_space_in_the_name(staged: list[FileDiff]) -> None:
    moved = by_path(staged)["edited and moved.txt"]
    assert (moved.old_path, moved.status, moved.added, moved.removed) == (
        "edit-move.txt",
        "renamed",
        1,
        1,
    )
    assert moved.hunks[0].lines[3:5] == ("-line 10", "+line ten")


def test_deletion(staged: list[FileDiff]) -> None:
    gone = by_path(staged)["gone.txt"]
    assert (gone.status, gone.old_path, gone.removed, gone.old_mode) == (
        "deleted",
        None,
        1,
        "100644",
    )


def test_mode_change(staged: list[FileDiff]) -> None:
    run = by_path(staged)["run.sh"]
    assert (run.status, run.old_mode, run.new_mode, run.hunks) == (
        "modified",
        "100644",
        "100755",
        (),
    )


def test_no_newline_marker_stays_in_its_hunk(staged: list[FileDiff]) -> None:
    keep = by_path(staged)["keep.txt"]
    assert keep.hunks[0].lines == (
        " one",
        "-two",
        "-three",
        "+TWO",
        "+three",
        "\\ No newline at end of file",
    )
    assert (keep.added, keep.removed) == (2, 2)


def test_paths_with_spaces_and_quoted_names(staged: list[FileDiff]) -> None:
    paths = by_path(staged)
    assert paths["with space.txt"].status == "added"
    assert paths["tab\there.txt"].status == "added"
    assert paths["tab\there.txt"].header[0] == 'diff --git "a/tab\\there.txt" "b/tab\\there.txt"'


def test_file_texts_rebuild_the_whole_diff(repo: Path, staged: list[FileDiff]) -> None:
    assert "".join(file.text for file in staged) == staged_diff(repo)


def test_excluded_lock_file_and_binary_are_skipped_with_reasons(staged: list[FileDiff]) -> None:
    kept, skipped = filter_files(staged, ["*.lock", "vendor/**"])
    assert {(s.path, s.reason) for s in skipped} == {
        ("logo.png", "binary file"),
        ("Cargo.lock", "matches exclude pattern `*.lock`"),
    }
    assert "keep.txt" in [file.path for file in kept]


# --------------------------------------------------------------------------------------------
# Parsing edge cases from text


def test_a_removed_line_that_looks_like_a_header_stays_in_the_hunk() -> None:
    text = file_diff("a.md", [["--- not a header", "+++ nor this", " ctx"]])
    (file,) = parse_diff(text)
    assert file.hunks[0].lines == ("--- not a header", "+++ nor this", " ctx")
    assert (file.added, file.removed) == (1, 1)


def test_counts_default_to_one_and_carriage_returns_are_kept() -> None:
    text = (
        "diff --git a/w.bat b/w.bat\n--- a/w.bat\n+++ b/w.bat\n"
        "@@ -3 +3 @@ label\n-echo off\r\n+echo on\r\n"
    )
    (file,) = parse_diff(text)
    hunk = file.hunks[0]
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (3, 1, 3, 1)
    assert hunk.section == " label"
    assert hunk.lines == ("-echo off\r", "+echo on\r")
    assert file.text == text


def test_quoted_octal_names_are_unquoted() -> None:
    assert unquote_path('"caf\\303\\251.txt"') == "café.txt"
    assert unquote_path('"a\\"b\\\\c"') == 'a"b\\c'
    assert unquote_path("plain name") == "plain name"


def test_empty_diff_parses_to_nothing() -> None:
    assert parse_diff("") == []


def test_text_that_is_not_a_diff_is_refused_with_its_line() -> None:
    with pytest.raises(DiffParseError) as caught:
        parse_diff("commit abc\nAuthor: x\n")
    assert str(caught.value) == (
        "diff line 1: expected a `diff --git` file header, found 'commit abc'; "
        "give specflow the output of `git diff`"
    )


def test_a_conflicted_file_is_named(repo: Path) -> None:
    git(repo, "checkout", "-qb", "theirs")
    (repo / "README.md").write_text("# theirs\n")
    git(repo, "commit", "-qam", "theirs")
    git(repo, "checkout", "-q", "main")
    (repo / "README.md").write_text("# ours\n")
    git(repo, "commit", "-qam", "ours")
    subprocess.run(["git", "merge", "-q", "theirs"], cwd=repo, capture_output=True)
    with pytest.raises(DiffParseError) as caught:
        parse_diff(staged_diff(repo))
    assert str(caught.value) == (
        "README.md has unresolved merge conflicts; resolve them and `git add` the file, "
        "then review again"
    )


def test_a_malformed_hunk_header_is_refused() -> None:
    text = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 no end\n-a\n"
    with pytest.raises(DiffParseError) as caught:
        parse_diff(text)
    assert str(caught.value) == (
        "diff line 4: malformed hunk header '@@ -1,2 +1,2 no end'; expected `@@ -a,b +c,d @@`"
    )


# --------------------------------------------------------------------------------------------
# Line roles: the one hunk walk the secret scanner shares


def all_roles(roles: LineRoles, text: str) -> list[tuple[str, int]]:
    return [roles.role(i) for i in range(len(text.split("\n")))]


def test_line_roles_number_each_side_and_skip_headers_and_markers() -> None:
    text = (
        "diff --git a/k b/k\n--- a/k\n+++ b/k\n@@ -4,3 +4,3 @@ f\n one\n-two\n-three\n+TWO\n"
        "+three\n\\ No newline at end of file\n"
    )
    roles = LineRoles.of_text(text)
    assert all_roles(roles, text) == [
        NOT_CONTENT,
        NOT_CONTENT,
        NOT_CONTENT,
        NOT_CONTENT,
        (" ", 4),
        ("-", 5),
        ("-", 6),
        ("+", 5),
        ("+", 6),
        NOT_CONTENT,
        NOT_CONTENT,  # after the last newline
    ]
    assert [roles.kind(i) for i in range(4, 10)] == [" ", "-", "-", "+", "+", ""]


def test_line_roles_of_a_parsed_file_match_those_of_its_text(staged: list[FileDiff]) -> None:
    for file in staged:
        assert all_roles(LineRoles.of_file(file), file.text) == all_roles(
            LineRoles.of_text(file.text), file.text
        ), file.path


def test_line_roles_of_bare_hunks_and_stray_lines() -> None:
    text = "@@ -1 +1,2 @@\n-a\n+b\n+c\nnot a diff line\n@@ broken @@\n+d\n"
    assert all_roles(LineRoles.of_text(text), text) == [
        NOT_CONTENT,
        ("-", 1),
        ("+", 1),
        ("+", 2),
        NOT_CONTENT,
        NOT_CONTENT,
        NOT_CONTENT,
        NOT_CONTENT,
    ]


def test_a_hunk_counts_its_added_and_removed_lines() -> None:
    (file,) = parse_diff(file_diff("a.py", [[" x", "-y", "+z", "+w"], ["-q"]]))
    assert [(h.added, h.removed) for h in file.hunks] == [(2, 1), (0, 1)]
    assert (file.added, file.removed) == (2, 2)


# --------------------------------------------------------------------------------------------
# Exclude patterns


def skipped_paths(paths: list[str], globs: list[str]) -> list[str]:
    text = "".join(file_diff(path, [["+x"]]) for path in paths)
    return [s.path for s in filter_files(parse_diff(text), globs)[1]]


def test_a_pattern_without_a_slash_matches_at_any_depth() -> None:
    paths = ["Cargo.lock", "web/yarn.lock", "lock.py", "a/b/package-lock.json"]
    assert skipped_paths(paths, ["*.lock", "package-lock.json"]) == [
        "Cargo.lock",
        "web/yarn.lock",
        "a/b/package-lock.json",
    ]


def test_a_pattern_with_a_slash_is_anchored_at_the_root() -> None:
    paths = ["vendor/a.go", "vendor/deep/er/b.go", "src/vendor/c.go", "vendored.go"]
    assert skipped_paths(paths, ["vendor/**"]) == ["vendor/a.go", "vendor/deep/er/b.go"]
    assert skipped_paths(paths, ["**/vendor/**"]) == [
        "vendor/a.go",
        "vendor/deep/er/b.go",
        "src/vendor/c.go",
    ]


def test_a_folder_pattern_covers_its_contents_and_star_stays_in_one_folder() -> None:
    paths = ["dist/app.js", "pkg/dist/x.js", "gen/a.py", "gen/sub/b.py", "app.min.js"]
    assert skipped_paths(paths, ["dist", "gen/*.py", "*.min.[jc]s"]) == [
        "dist/app.js",
        "pkg/dist/x.js",
        "gen/a.py",
        "app.min.js",
    ]


def test_a_negated_pattern_re_includes_and_the_last_match_wins() -> None:
    paths = ["vendor/a.go", "vendor/ours/b.go"]
    assert skipped_paths(paths, ["vendor/**", "!vendor/ours/**"]) == ["vendor/a.go"]


def test_blank_patterns_are_ignored() -> None:
    assert skipped_paths(["a.py"], ["", "  "]) == []


# --------------------------------------------------------------------------------------------
# Budgeting


def test_estimate_tokens_is_characters_over_four_rounded_up() -> None:
    assert [estimate_tokens(t) for t in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]


def test_small_files_pack_whole_and_in_order() -> None:
    texts = [file_diff(f"f{i}.py", [["+line"] * 10]) for i in range(6)]
    files = parse_diff("".join(texts))
    budget = estimate_tokens(texts[0]) * 2 + 5
    chunks = split_for_budget(files, budget)
    assert [chunk.paths for chunk in chunks] == [
        ["f0.py", "f1.py"],
        ["f2.py", "f3.py"],
        ["f4.py", "f5.py"],
    ]
    assert "".join(chunk.text for chunk in chunks) == "".join(texts)
    assert all(part.count == 1 for chunk in chunks for part in chunk.parts)


def test_a_large_file_is_split_per_hunk_with_its_header_on_each_piece() -> None:
    hunks = [[f"+hunk {h} line {i} " + "z" * 40 for i in range(20)] for h in range(4)]
    text = file_diff("big.py", hunks)
    (file,) = parse_diff(text)
    budget = estimate_tokens(file.header_text + file.hunks[0].text) + 2
    chunks = split_for_budget([file], budget)
    assert len(chunks) == 4
    for chunk, hunk in zip(chunks, file.hunks, strict=True):
        assert chunk.text == file.header_text + hunk.text
        assert chunk.tokens <= budget
        assert (chunk.parts[0].index, chunk.parts[0].count) == (chunks.index(chunk) + 1, 4)


def test_a_hunk_larger_than_the_budget_is_split_by_lines_with_true_headers() -> None:
    body = [" keep 0", *(f"-old {i}" for i in range(150)), *(f"+new {i}" for i in range(150))]
    body += [" keep 1", "\\ No newline at end of file"]
    (file,) = parse_diff(file_diff("one-hunk.py", [body], start=40))
    chunks = split_for_budget([file], 300)
    assert len(chunks) == 3
    assert body_lines(chunks) == list(file.hunks[0].lines)
    for chunk in chunks:
        assert chunk.tokens <= 300
        assert chunk.text.startswith(file.header_text)
        assert_hunk_counts_true(chunk.text)
    first = parse_diff(chunks[0].text)[0].hunks[0]
    second = parse_diff(chunks[1].text)[0].hunks[0]
    assert (first.old_start, first.new_start) == (40, 40)
    assert second.old_start == 40 + first.old_count
    assert second.new_start == 40 + first.new_count
    assert second.section == " def f():"


def test_splitting_keeps_every_line_exactly_once_and_respects_the_budget() -> None:
    files = parse_diff(big_diff())
    originals = [line for file in files for hunk in file.hunks for line in hunk.lines]
    assert len(originals) == 5000
    for budget in (200, 1000, 5000, 100_000):
        chunks = split_for_budget(files, budget)
        assert body_lines(chunks) == originals
        assert all(chunk.tokens <= budget for chunk in chunks)
        assert all(chunk.tokens == estimate_tokens(chunk.text) for chunk in chunks)
        for chunk in chunks:
            assert_hunk_counts_true(chunk.text)


def test_a_line_longer_than_the_budget_is_cut_with_a_marker_and_reported() -> None:
    body = ["+short", "+" + "m" * 4000, "+short again"]
    (file,) = parse_diff(file_diff("min.js", [body]))
    chunks = split_for_budget([file], 300)
    assert all(chunk.tokens <= 300 for chunk in chunks)
    sent = body_lines(chunks)
    assert sent[0] == "+short" and sent[2] == "+short again"
    kept = sent[1].split(" …[specflow: ")[0]
    assert kept.startswith("+mmm") and "m" * 4000 not in "".join(c.text for c in chunks)
    assert sent[1].endswith(
        f" …[specflow: {4001 - len(kept):,} more characters of this line not sent]"
    )
    assert [chunk.truncated for chunk in chunks if chunk.truncated] == [{"min.js": 1}]


def test_a_line_that_fits_the_budget_is_never_cut() -> None:
    # The near miss: a long line that still fits a chunk on its own is sent whole.
    body = ["+" + "m" * 1000]
    (file,) = parse_diff(file_diff("min.js", [body]))
    (chunk,) = split_for_budget([file], 300)
    assert body_lines([chunk]) == body and chunk.truncated == {}


def test_a_huge_single_line_change_is_split_by_size_not_sent_whole() -> None:
    (file,) = parse_diff(file_diff("blob.json", [["+" + "x" * 2_000_000]]))
    chunks = split_for_budget([file], 1000)
    assert len(chunks) == 1 and chunks[0].tokens <= 1000
    assert chunks[0].truncated == {"blob.json": 1}


def test_a_file_without_hunks_is_never_split() -> None:
    text = "diff --git a/x.bin b/x.bin\nBinary files a/x.bin and b/x.bin differ\n"
    chunks = split_for_budget(parse_diff(text), 1)
    assert [chunk.text for chunk in chunks] == [text]


def test_no_files_make_no_chunks() -> None:
    assert split_for_budget([], 1000) == []


def test_a_budget_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="budget_tokens must be at least 1, got 0"):
        split_for_budget([], 0)
