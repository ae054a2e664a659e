"""What the implement conversation keeps of a written file (its outline) and which standards
sections a file's request carries: each rule with a case that fires and a near miss."""

from __future__ import annotations

from specflow.stages.implement.outline import OUTLINE_MIN_LINES, SIGNATURE_MAX, outline
from specflow.stages.implement.standards import relevant_sections
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
log = None


@dataclass
class Gauge(Base, metaclass=Meta):
    """One gauge per state.

    More detail that the outline leaves out.
    """

    name: str
    value: float = 0.0
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
        "- `@dataclass class Gauge(Base, metaclass=Meta)`: One gauge per state.",
        "  - `name: str`",
        "  - `value: float = 0.0`",
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
        "export async function fetchJobs(db: Db): Promise<Job[]> {\n"
        "  const rows = await db.query('select');\n"  # a local: not a declaration of the file
        "  return rows;\n}\n"
        "class Repo {\n  public get(id: string): Job {\n    return x;\n  }\n"
        "  private helper(): void {}\n}\n"
    ) + PAD
    assert outline("src/jobs.ts", ts) == [
        "- `export interface Job`",
        "- `export async function fetchJobs(db: Db): Promise<Job[]>`",
        "- `class Repo`",
        "  - `public get(id: string): Job`",
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


# -- which standards sections a file's request carries ---------------------------------------

STANDARDS = Prompts(None).standards()


def titles(path: str, spec: str, current: str = "") -> list[str]:
    return [s.splitlines()[0] for s in relevant_sections(STANDARDS, path, spec, current)]


def test_sections_come_from_the_spec_lines_that_name_the_file() -> None:
    spec = (
        "- `src/pkg/fetch.py` (create) — calls the API with retries and backoff.\n"
        "- `src/pkg/store.py` (create) — one lock guards the cache.\n"
    )
    assert titles("src/pkg/fetch.py", spec) == ["## Retries and backoff"]
    assert titles("src/pkg/store.py", spec) == ["## Concurrency and lock discipline"]
    # by stem alone, as a word
    assert titles("src/pkg/store.py", "The store logs each eviction.\n") == ["## Logging"]
    # the near misses: another file's line, and trigger words inside other words
    assert titles("src/pkg/other.py", spec) == []
    assert titles("src/pkg/store.py", "store: uses prometheus_client; a blocklist; login\n") == []


def test_sections_come_from_the_current_content_and_the_kind_of_file() -> None:
    content = "import logging\nlog = logging.getLogger(__name__)\n"
    assert titles("src/pkg/a.py", "", content) == ["## Logging"]
    assert titles("tests/test_a.py", "") == ["## Testing"]
    assert titles("src/pkg/cli.py", "") == ["## Structure"]
    assert titles("src/pkg/client.py", "") == []
    # not code: no sections, whatever the spec says of it
    assert titles("docs/retries.md", "- `docs/retries.md` — how retries and logging work\n") == []
