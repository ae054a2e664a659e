"""Prompt rendering: the only importer of jinja2.

Templates and rules are data. A project overrides any of them by putting a file of the
same name under .specflow/templates/ or .specflow/rules/; the packaged ones fill the rest.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from specflow.errors import ConfigError
from specflow.resources import packaged_folder

if TYPE_CHECKING:
    from pathlib import Path


class Prompts:
    """Renders stage templates and reads rules, project overrides first."""

    def __init__(self, project_dir: Path | str | None) -> None:
        # Folders are plain strings: `specflow check` reads templates here without pathlib.
        self.project_dir = None if project_dir is None else os.fspath(project_dir)
        self._env: Any = None

    def _dirs(self, kind: str) -> list[str]:
        dirs = []
        if self.project_dir is not None:
            own = os.path.join(self.project_dir, kind)
            if os.path.isdir(own):
                dirs.append(own)
        dirs.append(packaged_folder(kind))
        return dirs

    def _environment(self) -> Any:
        if self._env is None:
            self._env = make_environment(self._dirs("templates"))
        return self._env

    def render(self, name: str, **variables: Any) -> str:
        """Render templates/<name>; a missing variable names the template and the variable."""
        import jinja2

        env = self._environment()
        try:
            return str(env.get_template(name).render(**variables))
        except jinja2.UndefinedError as exc:
            raise ConfigError(
                f"template {self.source_of('templates', name)}: {exc.message}; the template "
                "uses a variable specflow does not provide for this stage (check a project "
                "override in .specflow/templates/ against `specflow init --eject`)"
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(
                f"template {exc.filename or name}, line {exc.lineno}: {exc.message}"
            ) from None
        except jinja2.TemplateNotFound as exc:
            raise ConfigError(
                f"template {exc.name} not found in {', '.join(self._dirs('templates'))}"
            ) from None

    def source_of(self, kind: str, name: str) -> str:
        """The file that will be used for *name*: the project's override or the packaged one."""
        for folder in self._dirs(kind):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
        raise ConfigError(f"{kind}/{name} not found (looked in {', '.join(self._dirs(kind))})")

    def text(self, kind: str, name: str) -> str:
        with open(self.source_of(kind, name), encoding="utf-8") as file:
            return file.read()

    def rules(self) -> str:
        return self.text("rules", "rules.md")

    def standards(self) -> str:
        return self.text("rules", "engineering-standards.md")

    def spec_template(self) -> str:
        return self.text("templates", "spec-template.md")

    def fingerprint(self, *names: str) -> str:
        """A hash of the named templates' sources, for cache keys."""
        import hashlib  # not at the top: `specflow check` reads templates but hashes none

        digest = hashlib.sha256()
        for name in names:
            digest.update(self.text("templates", name).encode())
        return digest.hexdigest()[:16]


def make_environment(folders: list[str]) -> Any:
    """The Jinja2 environment every template renders in: strict about missing variables,
    whitespace-tidy, and given specflow's helpers (`fence_for(text)` / `text | fence`: a
    backtick fence the text cannot close), so no template re-implements them."""
    import jinja2

    from specflow.stages.describe import fence_for

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def fence(text: object) -> str:
        # str() first: an undefined variable raises its own UndefinedError, naming itself.
        return fence_for(str(text))

    env.globals["fence_for"] = fence
    env.filters["fence"] = fence
    return env


def do_not_items(rules_text: str) -> list[str]:
    """The list items of the rules' `## DO NOT` section, for reminders."""
    items: list[str] = []
    inside = False
    for line in rules_text.splitlines():
        stripped = line.strip()
        if stripped.startswith("## "):
            inside = stripped[3:].strip().lower() == "do not"
            continue
        if inside and stripped[:2] in ("- ", "* "):
            items.append(stripped[2:].strip())
    return items
