"""Loopback API servers that speak the Anthropic Messages API and the OpenAI chat-completions
API on 127.0.0.1, so the real SDKs can be driven through streaming, retries and errors.

Each server records every request and answers from a per-test script queue; when the queue is
empty it answers with its ``default`` (a reply item, a string, or a callable that takes the
recorded request and returns either). The script items:

    Text(text)             a reply: JSON, or SSE when the request asked for ``stream``
    HTTPError(status, ...) an error status with a body and headers (see the servers' helpers)
    Reset()                the connection is reset before any response
    Drop(text, after)      a stream that stops after *after* events (the socket just closes)
    StreamError(text)      a stream that sends some text, then an error event
    Delay(seconds, then)   wait (longer than the client's timeout), then answer *then*
    Malformed()            a 200 whose body does not parse

Usable from pytest (tests/support/fixtures.py) and from bench scripts: nothing here imports
pytest. ``with AnthropicServer() as server:`` starts and stops one.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar, Union

from specflow.stages.anchoring import estimate_tokens

DEFAULT_TEXT = "Hello from the loopback server."


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. Header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body, or None when it was not JSON
    raw: bytes


@dataclass
class Text:
    """A successful reply. *chunks* splits the streamed text (default: about three pieces)."""

    text: str = DEFAULT_TEXT
    stop_reason: str | None = None  # None: the API's normal end ("end_turn" / "stop")
    chunks: list[str] | None = None
    usage: dict[str, int] | None = None  # overrides the usage the server computes
    thinking: str | None = None  # Anthropic only: a thinking block before the text
    headers: dict[str, str] = field(default_factory=dict)

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return self.chunks
        return split_text(self.text)


@dataclass
class HTTPError:
    """An error status. *body*: a dict (sent as JSON), a string (sent as is), or None (the
    API's usual error body for the status)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    message: str = ""  # used for the default body


@dataclass
class Reset:
    """Reset the connection (TCP RST) after reading the request, before any response."""


@dataclass
class Drop:
    """Start a streamed reply of *text* and close the socket after *after_events* events.

    With ``clean=True`` the body ends properly instead, just without the events that
    finish a reply (a stream cut short by a proxy).
    """

    text: str = "This reply is cut off half-way through"
    after_events: int = 4
    clean: bool = False


@dataclass
class StreamError:
    """Stream *text*, then an error event of *error_type* with *message*, then end."""

    text: str = "Partial text before the error"
    error_type: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass
class Delay:
    """Wait *seconds* before answering with *then* (or the default reply)."""

    seconds: float
    then: ReplyItem | None = None


@dataclass
class Malformed:
    """A 200 whose body does not parse (the body is chosen for JSON or SSE if not given)."""

    body: bytes | None = None


# Union, not |: these aliases are evaluated at run time, and the code runs on Python 3.10.
ReplyItem = Union[Text, HTTPError, Reset, Drop, StreamError, Delay, Malformed]  # noqa: UP007
Responder = Callable[[RecordedRequest], Union[str, ReplyItem]]  # noqa: UP007


def split_text(text: str, pieces: int = 3) -> list[str]:
    """*text* cut into about *pieces* parts at spaces, so deltas arrive word-aligned."""
    if not text:
        return []
    words = text.split(" ")
    size = max(1, -(-len(words) // pieces))
    parts = [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return [p + (" " if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as the real APIs
    server: _HTTPServer
    timeout = 30  # a stuck client cannot hold a server thread for ever

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.owner._untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: tests assert on recorded requests, not on the server's log."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = RecordedRequest(method, self.path, headers, body, raw)
        owner = self.server.owner
        owner._record(request)
        try:
            owner.respond(self, request)
        except OSError:
            # The client went away (it timed out, or we reset it on purpose).
            self.close_connection = True

    # -- writing helpers used by the servers --------------------------------------------

    def send_bytes(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def send_json(self, status: int, obj: Any, headers: dict[str, str]) -> None:
        self.send_bytes(status, json.dumps(obj).encode(), "application/json", headers)

    def start_stream(self, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()

    def send_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def abort(self) -> None:
        """Close the socket mid-response: the client sees an incomplete chunked body."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def reset(self) -> None:
        """Send a TCP RST instead of any response."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread: a clean stop
    block_on_close = True
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            return  # a client that went away is part of what these servers simulate
        self.owner.errors.append(traceback.format_exc())
        traceback.print_exc()


_Server = TypeVar("_Server", bound="LoopbackServer")


class LoopbackServer:
    """The shared machinery: socket, threads, script queue and request log."""

    api_name = "loopback"
    path_prefix = ""

    def __init__(self, default: str | ReplyItem | Responder | None = None) -> None:
        self.default: str | ReplyItem | Responder = DEFAULT_TEXT if default is None else default
        self.errors: list[str] = []  # server-side bugs, reported by the fixture
        self._queue: deque[str | ReplyItem] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=self.api_name
        )
        self._thread.start()
        return self

    @contextmanager
    def running(self: _Server) -> Iterator[_Server]:
        """Serve for the block, then stop; a server-side error (a bug in the fake, not a
        scripted failure) fails the block's owner after the stop."""
        self.start()
        try:
            yield self
        finally:
            self.stop()
        if self.errors:
            raise AssertionError("the loopback server failed:\n" + "\n".join(self.errors))

    def stop(self) -> None:
        """Stop serving, wake every open connection, and join every thread."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not started"
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What to give the SDK as base_url."""
        return self.root_url + self.path_prefix

    # -- script and log -----------------------------------------------------------------

    def script(self, *items: str | ReplyItem) -> None:
        """Queue replies, answered in order, one per request."""
        with self._lock:
            self._queue.extend(items)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """Script items not yet used."""
        with self._lock:
            return len(self._queue)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def next_reply(self, request: RecordedRequest) -> ReplyItem:
        with self._lock:
            item = self._queue.popleft() if self._queue else None
        if item is None:
            item = self.default(request) if callable(self.default) else self.default
        return Text(item) if isinstance(item, str) else item

    # -- answering ----------------------------------------------------------------------

    def respond(self, handler: _Handler, request: RecordedRequest) -> None:
        """Answer *request*: refuse what the real API refuses, else play the next item."""
        refusal = self.refuse(request)
        item = refusal if refusal is not None else self.next_reply(request)
        self.play(handler, request, item)

    def play(self, handler: _Handler, request: RecordedRequest, item: ReplyItem) -> None:
        stream = isinstance(request.body, dict) and bool(request.body.get("stream"))
        if isinstance(item, Delay):
            self._stopping.wait(item.seconds)
            if self._stopping.is_set():
                handler.close_connection = True
                return
            then = item.then if item.then is not None else self._default_after_delay(request)
            self.play(handler, request, then)
        elif isinstance(item, Reset):
            handler.reset()
        elif isinstance(item, HTTPError):
            self.send_error(handler, item)
        elif isinstance(item, Malformed):
            self.send_malformed(handler, item, stream)
        elif isinstance(item, Text):
            self.send_text(handler, request, item, stream)
        elif isinstance(item, Drop):
            self.send_drop(handler, request, item)
        elif isinstance(item, StreamError):
            self.send_stream_error(handler, request, item)
        else:  # pragma: no cover - a typo in a test's script
            raise TypeError(f"unknown script item {item!r}")

    def _default_after_delay(self, request: RecordedRequest) -> ReplyItem:
        item = self.default(request) if callable(self.default) else self.default
        return Text(item) if isinstance(item, str) else item

    def send_error(self, handler: _Handler, item: HTTPError) -> None:
        headers = {**self.response_headers(), **item.headers}
        if item.body is None:
            handler.send_json(item.status, self.error_body(item.status, item.message), headers)
        elif isinstance(item.body, str):
            handler.send_bytes(item.status, item.body.encode(), "text/plain", headers)
        else:
            handler.send_json(item.status, item.body, headers)

    def send_malformed(self, handler: _Handler, item: Malformed, stream: bool) -> None:
        if stream:
            body = item.body or self.malformed_stream()
            handler.start_stream(self.response_headers())
            handler.send_chunk(body)
            handler.end_stream()
        else:
            handler.send_bytes(
                200, item.body or b"{this is not json", "application/json", self.response_headers()
            )

    def send_events(self, handler: _Handler, events: list[bytes], item: Drop | None = None) -> None:
        """Stream *events*; a Drop stops after its count (abruptly unless clean)."""
        handler.start_stream(self.response_headers())
        limit = len(events) if item is None else min(item.after_events, len(events))
        for event in events[:limit]:
            handler.send_chunk(event)
        if item is not None and not item.clean:
            handler.abort()
        else:
            handler.end_stream()

    def send_drop(self, handler: _Handler, request: RecordedRequest, item: Drop) -> None:
        events = self.text_events(request, Text(item.text))
        # Never send the events that finish a reply: the point is an unfinished one.
        self.send_events(handler, events[: len(events) - self.closing_count(request)], item)

    # -- per API ------------------------------------------------------------------------

    closing_events = 1  # how many trailing events finish a reply (Drop never sends them)

    def closing_count(self, request: RecordedRequest) -> int:
        return self.closing_events

    def refuse(self, request: RecordedRequest) -> ReplyItem | None:
        """The error the real API would give this request regardless of the script."""
        return None

    def response_headers(self) -> dict[str, str]:
        return {}

    def error_body(self, status: int, message: str) -> Any:
        raise NotImplementedError

    def malformed_stream(self) -> bytes:
        raise NotImplementedError

    def text_events(self, request: RecordedRequest, item: Text) -> list[bytes]:
        raise NotImplementedError

    def send_text(
        self, handler: _Handler, request: RecordedRequest, item: Text, stream: bool
    ) -> None:
        raise NotImplementedError

    def send_stream_error(
        self, handler: _Handler, request: RecordedRequest, item: StreamError
    ) -> None:
        raise NotImplementedError


def sse(event: str | None, data: Any) -> bytes:
    """One server-sent event; *data* is JSON-encoded unless it is already a string."""
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


__all__ = [
    "DEFAULT_TEXT",
    "Delay",
    "Drop",
    "HTTPError",
    "LoopbackServer",
    "Malformed",
    "RecordedRequest",
    "ReplyItem",
    "Reset",
    "Responder",
    "StreamError",
    "Text",
    "estimate_tokens",
    "split_text",
    "sse",
]
