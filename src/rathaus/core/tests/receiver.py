"""A local HTTP server standing in for another system that receives webhooks; it applies
each idempotency key's effect once, as a well-behaved receiver does."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Receiver:
    url: str = ""
    status: int = 200
    attempts: list[str] = field(default_factory=list)  # idempotency keys, every attempt
    effects: dict[str, int] = field(default_factory=dict)  # key -> times applied
    hang_first: bool = False
    first_arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def running_receiver(**options: object) -> Iterator[Receiver]:
    receiver = Receiver(**options)  # type: ignore[arg-type]
    lock = threading.Lock()
    applied: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            key = self.headers.get("Idempotency-Key", "")
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                receiver.attempts.append(key)
                first = len(receiver.attempts) == 1
                # An idempotent receiver applies a key's effect once and ignores repeats.
                if key not in receiver.effects:
                    receiver.effects[key] = 0
                if key not in applied:
                    applied.add(key)
                    receiver.effects[key] += 1
            receiver.first_arrived.set()
            if first and receiver.hang_first:
                receiver.release.wait(60)  # the sender dies while waiting for us
                return
            self.send_response(receiver.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
