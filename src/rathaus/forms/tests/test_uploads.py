"""Uploads: content, not names, decides; broken images and infected files are refused; the
ClamAV plugin speaks clamd's protocol (tested against a local stand-in server)."""

from __future__ import annotations

import io
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from rathaus.forms.contrib.virusscan import ScanError
from rathaus.forms.contrib.virusscan.clamd import ClamdScanner
from rathaus.forms.uploads import UploadRejected, check_and_store, sanitise_filename

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 3), "blue").save(buffer, format="PNG")
    return buffer.getvalue()


@contextmanager
def fake_clamd(*, broken: bool = False) -> Iterator[int]:
    """A local server speaking clamd's zINSTREAM: finds EICAR, else answers OK."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                command = conn.recv(10)
                assert command == b"zINSTREAM\0"
                data = b""
                while True:
                    size = struct.unpack("!L", conn.recv(4, socket.MSG_WAITALL))[0]
                    if size == 0:
                        break
                    data += conn.recv(size, socket.MSG_WAITALL)
                if broken:
                    conn.sendall(b"INSTREAM size limit exceeded. ERROR\0")
                elif b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in data:
                    conn.sendall(b"stream: Eicar-Test-Signature FOUND\0")
                else:
                    conn.sendall(b"stream: OK\0")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.close()


def test_clamd_plugin_reports_what_it_found() -> None:
    with fake_clamd() as port:
        scanner = ClamdScanner(host="127.0.0.1", port=port)
        assert scanner.scan(b"%PDF-1.7 harmless") is None
        assert scanner.scan(b"%PDF-1.7 " + EICAR) == "Eicar-Test-Signature"


def test_clamd_plugin_fails_closed_when_clamd_is_down_or_confused() -> None:
    with fake_clamd(broken=True) as port, pytest.raises(ScanError):
        ClamdScanner(host="127.0.0.1", port=port).scan(b"%PDF-")
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]
    with pytest.raises(ScanError):
        ClamdScanner(host="127.0.0.1", port=port, timeout=2).scan(b"%PDF-")


@pytest.mark.django_db
def test_an_infected_upload_is_refused_and_a_clean_one_kept(
    settings: object, tmp_path: object
) -> None:
    with fake_clamd() as port, override_settings(VIRUS_SCANNER=f"clamd://127.0.0.1:{port}"):
        with pytest.raises(UploadRejected, match="Schadsoftware"):
            check_and_store(SimpleUploadedFile("a.pdf", b"%PDF-1.7\n" + EICAR))
        token, meta = check_and_store(SimpleUploadedFile("ok.pdf", b"%PDF-1.7\nhello"))
        assert meta["content_type"] == "application/pdf" and len(token) == 48


@pytest.mark.django_db
def test_scanner_down_means_the_file_is_not_taken_unchecked() -> None:
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]
    with (
        override_settings(VIRUS_SCANNER=f"clamd://127.0.0.1:{port}"),
        pytest.raises(UploadRejected, match="nicht geprüft"),
    ):
        check_and_store(SimpleUploadedFile("ok.pdf", b"%PDF-1.7\nhello"))


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bild.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "kein echtes Bild"),  # header only
        ("bild.pdf", b"MZ\x90\x00 an exe", "PDF-, PNG- oder JPEG"),  # wrong content, right name
        ("leer.pdf", b"", "leer"),
    ],
)
def test_content_decides_not_the_name(name: str, data: bytes, message: str) -> None:
    with pytest.raises(UploadRejected, match=message):
        check_and_store(SimpleUploadedFile(name, data))


def test_a_real_image_is_kept_and_names_are_sanitised(tmp_path: object) -> None:
    with override_settings(MEDIA_ROOT=str(tmp_path)):
        token, meta = check_and_store(SimpleUploadedFile("../../x/Bild\x00<1>.png", _png()))
    assert (tmp_path / "uploads" / token).exists()  # type: ignore[operator]
    assert meta["filename"] == "Bild1.png"
    assert sanitise_filename("..\\..\\windows\\system.ini") == "system.ini"
    assert sanitise_filename("....") == "datei"


def test_oversized_files_are_refused() -> None:
    big = SimpleUploadedFile("gross.pdf", b"%PDF-" + b"0" * 2048)
    with pytest.raises(UploadRejected, match="zu groß"):
        check_and_store(big, max_bytes=1024)
