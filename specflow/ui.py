"""Terminal output: notices on stderr, streamed model text with a spinner until the first token.

rich is imported only when a spinner is shown (a terminal), never for --help or tests.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO


class Elapsed:
    """A spinner's label with the seconds waited so far, re-read each time it is drawn."""

    def __init__(self, label: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.clock = clock
        self.start = clock()

    def __str__(self) -> str:
        return f"{self.label} ({int(self.clock() - self.start)} s)"

    def __rich__(self) -> str:
        return str(self)


class StreamPrinter:
    """The on_text callback of a stage: shows a spinner, then the model's text as it arrives."""

    def __init__(self, stream: TextIO | None = None, echo: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.echo = echo
        self._status: Any = None
        self._started = False
        self._muted = False
        self.chars = 0

    def waiting(self, label: str) -> None:
        """Show *label* with a spinner and the seconds waited (terminals only) until the first
        token arrives."""
        self._started = False
        self._muted = False
        if self.echo and self.stream.isatty():
            from rich.console import Console

            self._status = Console(file=self.stream).status(Elapsed(label))
            self._status.start()
        elif self.echo:
            self.stream.write(label + "\n")
            self.stream.flush()

    def retrying(self, label: str) -> None:
        """A re-ask: wait under *label* but do not stream the new reply (the reply shown
        already holds the same content; the stage reports the accepted one)."""
        self.done()
        self.waiting(label)
        self._muted = True

    def __call__(self, text: str) -> None:
        self.chars += len(text)
        if self._muted:
            return
        if not self._started:
            self._stop_spinner()
            self._started = True
        if self.echo:
            self.stream.write(text)
            self.stream.flush()

    def restart(self, reason: str) -> None:
        """The provider is retrying (*reason*); any partial reply shown is thrown away."""
        self._stop_spinner()
        if self.echo:
            lead = "\n" if self._started else ""
            dropped = "; the partial reply above is discarded" if self._started else ""
            self.stream.write(f"{lead}[specflow] {reason}{dropped}\n")
            self.stream.flush()
        self._started = False

    def done(self) -> None:
        self._stop_spinner()
        if self.echo and self._started:
            self.stream.write("\n")
            self.stream.flush()
        self._started = False

    def _stop_spinner(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def notice(message: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    out.write(message + "\n")
    out.flush()
