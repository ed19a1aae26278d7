"""ClamAV's clamd over TCP, INSTREAM command (zINSTREAM, length-prefixed chunks)."""

from __future__ import annotations

import socket
import struct

from rathaus.forms.contrib.virusscan import ScanError

CHUNK = 64 * 1024


class ClamdScanner:
    def __init__(self, *, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    def scan(self, data: bytes) -> str | None:
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout) as conn:
                conn.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK):
                    chunk = data[start : start + CHUNK]
                    conn.sendall(struct.pack("!L", len(chunk)) + chunk)
                conn.sendall(struct.pack("!L", 0))
                answer = b""
                while not answer.endswith(b"\0"):
                    part = conn.recv(4096)
                    if not part:
                        break
                    answer += part
        except OSError as exc:
            raise ScanError(f"clamd at {self.host}:{self.port}: {type(exc).__name__}") from None
        reply = answer.rstrip(b"\0").decode(errors="replace").strip()
        if reply.endswith("OK"):
            return None
        if reply.endswith("FOUND"):
            return reply.removeprefix("stream:").removesuffix("FOUND").strip()
        raise ScanError(f"clamd answered {reply[:100]!r}")
