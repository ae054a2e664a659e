"""What the implement conversation keeps of a written file (its outline) and which standards
sections a file's request carries: each rule with a case that fires and a near miss."""

from __future__ import annotations

from specflow.stages.implement.outline import OUTLINE_MIN_LINES, SIGNATURE_MAX, outline
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


def test_a_long_signature_is_cut_and_a_backtick_gets_a_double_span() -> None:
    params = ", ".join(f"argument_{n}: int" for n in range(20))
    (line,) = outline("src/a.py", f"def wide({params}) -> int:\n    return 0\n" + PAD)
    assert len(line) == len("- ``") + SIGNATURE_MAX and line.endswith("…`")
    (ts,) = outline("src/a.ts", "export const greeting = `hello`;\n" + PAD)
    assert ts == "- `` export const greeting = `hello`; ``"


def test_other_languages_keep_their_declaration_lines() -> None:
    ts = (
        "import { Db } from './db';\n"
        "export interface Job {\n  id: string;\n}\n"
        "export async function fetchJobs(\n  db: Db,\n  limit: number,\n): Promise<Job[]> {\n"
        "  const rows = await db.query('select');\n"  # a local: not a declaration of the file
        "  report(\n    rows,\n  );\n"  # a call wrapped over lines: not a method
        "  rows.forEach((row) => {\n    check(row);\n  });\n"
        "  if (rows.length) {\n    return rows;\n  }\n"
        "  return rows;\n}\n"
        "export class Repo {\n  constructor(private db: Db) {\n    this.db = db;\n  }\n"
        "  async get(id: string): Promise<Job> {\n    return x;\n  }\n"
        "  public count(): number {\n    return 0;\n  }\n}\n"
        "module.exports = { Repo };\n"
    ) + PAD
    assert outline("src/jobs.ts", ts) == [
        "- `export interface Job`",
        "- `export async function fetchJobs( db: Db, limit: number, ): Promise<Job[]>`",
        "- `export class Repo`",
        "  - `constructor(private db: Db)`",
        "  - `async get(id: string): Promise<Job>`",
        "  - `public count(): number`",
    ]
    go = (
        "package jobs\n\ntype Job struct {\n\tID string\n}\n\n"
        "func (r *Repo) Get(id string) Job {\n\treturn Job{}\n}\n"
    )
    assert outline("jobs.go", go + PAD) == [
        "- `package jobs`",
        "- `type Job struct`",
        "- `func (r *Repo) Get(id string) Job`",
    ]
    # languages whose members a line cannot name reliably are kept whole
    kotlin = "class Repo {\n    fun get(id: String): Job {\n        return x\n    }\n}\n"
    ruby = "module Jobs\n  class Repo\n    def get(id)\n    end\n  end\nend\n"
    c = "int count_jobs(struct db *db) {\n    return 0;\n}\n"
    for name, text in (("repo.kt", kotlin), ("repo.rb", ruby), ("jobs.c", c)):
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
