"""What the implement conversation keeps of a written file (its outline) and which standards
sections a file's request carries: each rule with a case that fires and a near miss."""

from __future__ import annotations

from specflow.stages.implement.outline import OUTLINE_MIN_LINES, outline
from specflow.stages.implement.standards import demoted, relevant_sections, sent_headings
from specflow.stages.prompts import Prompts

PAD = "\n" * OUTLINE_MIN_LINES  # blank lines: long enough to be outlined, nothing defined

PYTHON = (
    '''\
"""Job metrics."""

import threading
from dataclasses import dataclass, field

DEFAULT_TIMEOUT_S = 5.0
QUERY = """
select state, count(*) from jobs group by state
"""
_CACHE = {}
app = Flask(__name__)
JobId = int
first, second = 1, 2


class State(str, Enum):
    PENDING = "pending"
    DONE = "done"


@dataclass
class Gauge(Base, metaclass=Meta):
    """One gauge per state.

    More detail that the outline leaves out.
    """

    name: str
    value: float = 0.0
    labels: dict[
        str, str
    ] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __init__(self, name: str) -> None:
        self.name = name

    def set(self, value: float) -> None:
        """Set the gauge."""
        self.value = value

    def _reset(self) -> None:
        self.value = 0.0

    @property
    def label(self) -> str:
        return self.name


async def fetch(db: "Db", *, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[Gauge]:
    """Read the counts."""
    return []


def _helper() -> None:
    pass
'''
    + PAD
)


def test_a_python_file_is_outlined_by_its_public_definitions() -> None:
    assert outline("src/pkg/metrics.py", PYTHON) == [
        "- `DEFAULT_TIMEOUT_S = 5.0`",
        "- `QUERY`",  # a multi-line value is left out
        "- `app = Flask(__name__)`",
        "- `JobId = int`",
        "- `first`",
        "- `second`",
        "- `class State(str, Enum)`",
        '  - `PENDING = "pending"`',
        '  - `DONE = "done"`',
        "- `@dataclass class Gauge(Base, metaclass=Meta)`: One gauge per state.",
        "  - `name: str`",
        "  - `value: float = 0.0`",
        "  - `labels: dict[str, str] = field(default_factory=dict)`",
        "  - `def __init__(self, name: str) -> None`",
        "  - `def set(self, value: float) -> None`: Set the gauge.",
        "  - `@property def label(self) -> str`",
        "- `async def fetch(db: 'Db', *, timeout_s: float=DEFAULT_TIMEOUT_S) -> list[Gauge]`: "
        "Read the counts.",
    ]


def test_short_files_unparsable_files_and_data_files_are_kept_whole() -> None:
    short = "def run() -> None:\n    pass\n" * ((OUTLINE_MIN_LINES - 1) // 2)
    assert outline("src/a.py", short) == []
    assert outline("src/a.py", short + PAD) == ["- `def run() -> None`"] * len(
        short.splitlines()[::2]
    )
    assert outline("src/a.py", "def broken(:\n" + PAD) == []
    # nesting too deep for the parser or the unparser: kept whole, never a crash
    assert outline("src/a.py", f"def f(x=1{'+1' * 1200}):\n    pass\n" + PAD) == []
    assert outline("docs/guide.md", "# Guide\n\nclass Foo\n" + PAD) == []
    assert outline("config.json", '{"a": 1}\n' + PAD) == []
    # code that defines nothing a line can name
    assert outline("src/a.py", "print('x')\n" + PAD) == []


def test_names_bound_under_if_try_and_with_and_by_unpacking_are_listed() -> None:
    text = (
        "from typing import TYPE_CHECKING\n"
        "__all__ = [\n    'Repo',\n    'load',\n]\n"
        "if TYPE_CHECKING:\n    from x import Db\nelse:\n    Db = object\n"
        "try:\n    import ujson as json\nexcept ImportError:\n    JSON_FAST = False\n"
        "low, high = 1, 2\n"
        "@app.get('/items/{id}')\ndef item(id: int) -> dict:\n    return {}\n"
    ) + PAD
    assert outline("src/a.py", text) == [
        "- `__all__ = ['Repo', 'load']`",
        "- `Db = object`",
        "- `JSON_FAST = False`",
        "- `low`",
        "- `high`",
        "- `@app.get('/items/{id}') def item(id: int) -> dict`",
    ]


def test_a_long_signature_is_whole_and_a_backtick_gets_a_double_span() -> None:
    params = ", ".join(f"argument_{n}: int" for n in range(20))
    (line,) = outline("src/a.py", f"def wide({params}) -> int:\n    return 0\n" + PAD)
    assert line == f"- `def wide({params}) -> int`"
    (quoted,) = outline("src/a.py", 'def f() -> str:\n    """Return `x`."""\n' + PAD)
    assert quoted == "- `def f() -> str`: Return `x`."
    (ticked,) = outline("src/a.py", "MARK = '`'\n" + PAD)
    assert ticked == "- `` MARK = '`' ``"


def test_other_languages_are_kept_whole() -> None:
    # declaration lines picked by patterns miss interface members, grouped constants and
    # wrapped signatures: a file in a language without a syntax tree here is kept whole
    samples = {
        "src/jobs.ts": "export interface Job {\n  id: string;\n}\n",
        "jobs.go": "package jobs\n\nconst (\n\tA = 1\n\tB = 2\n)\n",
        "src/Repo.java": "public interface Repo {\n    Job find(long id);\n}\n",
        "src/lib.rs": "pub trait Shape {\n    fn area(&self) -> f64;\n}\n",
        "repo.rb": "module Jobs\n  class Repo\n  end\nend\n",
    }
    for name, text in samples.items():
        assert outline(name, text + PAD) == [], name


# -- which standards sections a file's request carries ---------------------------------------

STANDARDS = Prompts(None).standards()


def titles(path: str, spec: str, current: str = "") -> list[str]:
    return [s.splitlines()[0] for s in relevant_sections(STANDARDS, path, spec, current)]


def test_sections_come_from_the_spec_lines_that_name_the_file() -> None:
    spec = (
        "- `src/pkg/fetch.ts` (create) — calls the API with retries and backoff.\n"
        "- `src/pkg/store.ts` (create) — one lock guards the cache.\n"
    )
    assert titles("src/pkg/fetch.ts", spec) == ["## Retries and backoff"]
    assert titles("src/pkg/store.ts", spec) == ["## Concurrency and lock discipline"]
    # by name alone, as a word
    assert titles("src/pkg/store.ts", "The store logs each eviction.\n") == ["## Logging"]
    # the near misses: another file's line, trigger words inside other words or meaning
    # something else, and a longer path or name that only starts like this one
    assert titles("src/pkg/other.ts", spec) == []
    near = "store: uses prometheus_client; a blocklist; login; on click; tokens of the lexer\n"
    assert titles("src/pkg/store.ts", near) == []
    assert titles("src/pkg/store.ts", "`src/pkg/store.ts.bak` and store.tsx retry\n") == []
    assert titles("src/pkg/config.ts", "config.toml is read with retries\n") == []
    # a URL is not HTTP handling; serving over HTTP is
    assert titles("src/pkg/server.ts", "server: see https://example.com/docs\n") == []
    assert titles("src/pkg/server.ts", "server: serves /metrics over HTTP\n") == [
        "## Input validation"
    ]


def test_a_file_is_found_by_its_name_with_extension_and_a_dotted_path() -> None:
    assert titles("src/pkg/store.ts", "- `store.ts` — one lock guards the cache.\n") == [
        "## Concurrency and lock discipline"
    ]
    assert titles("src/index.ts", "- `./src/index.ts` — logs each request.\n") == [
        "## Logging",
        "## Input validation",
    ]


def test_short_or_common_names_are_found_by_their_path_only() -> None:
    spec = (
        "- `src/a.ts` — a file that logs.\n- the index of the jobs table is rebuilt with retries\n"
    )
    assert titles("src/a.ts", spec) == ["## Logging"]  # its own line, by path
    assert titles("src/b/a.ts", spec) == []  # "a" the article is not this file
    assert titles("web/index.ts", spec) == []


def test_sections_come_from_the_current_content_and_the_kind_of_file() -> None:
    content = "import logging\nlog = logging.getLogger(__name__)\n"
    assert titles("src/pkg/a.ts", "", content) == ["## Logging"]
    for test_file in (
        "tests/test_a.py",
        "src/app.test.ts",
        "web/foo.spec.js",
        "src/test/java/FooTest.java",
        "spec/foo_spec.rb",
        "pkg/jobs_test.go",
    ):
        assert "## Testing" in titles(test_file, ""), test_file
    assert "## Testing" not in titles("src/latest.ts", "")  # the near miss
    assert titles("src/pkg/cli.ts", "") == ["## Structure"]
    assert titles("src/Main.java", "") == ["## Structure"]
    assert titles("src/pkg/client.ts", "") == []
    # Python files also get the rules `specflow check` applies to Python
    assert titles("src/pkg/client.py", "") == ["## Machine-checked"]
    assert titles("worker.c", "- `worker.c` — a pthread worker pool\n") == [
        "## Concurrency and lock discipline"
    ]
    # not code: no sections, whatever the spec says of it
    assert titles("docs/retries.md", "- `docs/retries.md` — how retries and logging work\n") == []


def test_a_section_of_a_projects_own_standards_without_triggers_goes_with_every_code_file() -> None:
    own = STANDARDS.replace(
        "## Review Checklist", "## Security\n\n- Pin every dependency.\n\n## Review Checklist"
    )
    chosen = [s.splitlines()[0] for s in relevant_sections(own, "src/a.ts", "")]
    assert chosen == ["## Security"]
    assert relevant_sections(own, "docs/a.md", "") == []
    # a title is keyed by any trigger word in it: "Secure logging" goes where logs do
    logs = STANDARDS.replace("## Logging", "## Secure logging")
    assert [s.splitlines()[0] for s in relevant_sections(logs, "src/a.ts", "")] == []
    assert [s.splitlines()[0] for s in relevant_sections(logs, "src/a.ts", "", "log(x)")] == [
        "## Secure logging"
    ]


def test_sections_go_one_level_down_and_are_known_by_their_heading() -> None:
    section = "## Logging\n\n- Log.  \n\n```python\n# a comment\n```\n### Sub\n"
    assert demoted(section) == "### Logging\n\n- Log.  \n\n```python\n# a comment\n```\n#### Sub\n"
    turn = (
        "## File to write: `a.py`\n\n## Engineering standards for this file\n\nText.\n\n"
        "### Logging\n\n- Log, with trailing spaces changed.\n\n#### Sub\n\nWrite `a.py` now.\n"
    )
    assert sent_headings([turn]) == {"### Logging"}
    # a ### heading outside the block (a file's content) is not a section sent
    assert sent_headings(["## File to write\n\n### Logging\n"]) == set()
    # headings inside a section's code fence neither end the block nor count as sections
    fenced = (
        "## Engineering standards for this file\n\n### Logging\n\n```md\n## Example\n"
        "### Not a section\n```\n\n### Retries and backoff\n\n- Bound them.\n"
    )
    assert sent_headings([fenced]) == {"### Logging", "### Retries and backoff"}
    assert demoted("## Tags\n\n#hashtag stays\n") == "### Tags\n\n#hashtag stays\n"
