"""Uploads: content, not names, decides; broken images and infected files are refused; the
ClamAV plugin speaks clamd's protocol (tested against a local stand-in server)."""

from __future__ import annotations

import io
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
        (
            "bild.pdf",
            b"MZ\x90\x00 an exe",
            "Datei dieser Art hoch: PDF, PNG oder JPEG",
        ),  # wrong content, right name
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


# -- per-field limits and several files (a repeatable group around a file field) -----------

NACHWEISE = {
    "title": {"de": "Nachweise"},
    "steps": [
        {
            "id": "s1",
            "title": {"de": "Nachweise"},
            "items": [
                {
                    "kind": "field",
                    "id": "foto",
                    "type": "file",
                    "label": {"de": "Foto"},
                    "media_types": ["image/png"],
                    "max_bytes": 2048,
                },
                {
                    "kind": "group",
                    "id": "belege",
                    "label": {"de": "Belege"},
                    "repeat": {"min": 1, "max": 3},
                    "items": [
                        {
                            "kind": "field",
                            "id": "beleg",
                            "type": "file",
                            "label": {"de": "Beleg"},
                            "required": True,
                            "media_types": ["application/pdf"],
                        }
                    ],
                },
            ],
        }
    ],
}


@pytest.fixture
def nachweise(client: Any) -> Any:
    from rathaus.forms.definition import FormDefinition
    from rathaus.forms.models import Form
    from rathaus.forms.services import form_draft_save, form_version_publish

    form = Form.objects.create(slug="nachweise", title="Nachweise")
    version = form_draft_save(
        form=form, definition=FormDefinition.model_validate(NACHWEISE), actor=None
    )
    form_version_publish(version=version, actor=None)
    client.post("/formulare/nachweise/beginnen/")
    return client


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.7\n" + name.encode())


@pytest.mark.django_db
def test_a_field_takes_only_its_own_types_and_sizes(nachweise: Any) -> None:
    page = nachweise.get("/formulare/nachweise/schritt/1/").content.decode()
    assert 'accept=".png,image/png"' in page and "PNG, höchstens 2 KB." in page
    assert 'accept=".pdf,application/pdf"' in page
    wrong_type = nachweise.post(
        "/formulare/nachweise/schritt/1/",
        {"belege__count": "1", "foto": _pdf("foto.pdf"), "belege__0__beleg": _pdf("a.pdf")},
    )
    assert wrong_type.status_code == 422
    assert "Datei dieser Art hoch: PNG." in wrong_type.content.decode()
    big = io.BytesIO()
    Image.effect_noise((64, 64), 100).save(big, format="PNG")
    too_big = nachweise.post(
        "/formulare/nachweise/schritt/1/",
        {
            "belege__count": "1",
            "foto": SimpleUploadedFile("gross.png", big.getvalue()),
            "belege__0__beleg": _pdf("a.pdf"),
        },
    )
    assert "zu groß (höchstens 2 KB)" in too_big.content.decode()
    # the accepted receipt was kept although the photo was refused
    assert "Hochgeladen: a.pdf" in too_big.content.decode()


@pytest.mark.django_db
def test_several_files_in_a_repeated_group_are_kept_in_their_entries(nachweise: Any) -> None:
    from rathaus.forms.models import FormDraft
    from rathaus.forms.services import draft_data

    added = nachweise.post(
        "/formulare/nachweise/schritt/1/",
        {
            "belege__count": "1",
            "belege__0__beleg": _pdf("erster.pdf"),
            "action": "add:belege",
        },
    )
    html = added.content.decode()
    assert "Hochgeladen: erster.pdf" in html and 'name="belege__1__beleg"' in html
    kept = html.split('name="belege__0__beleg__kept" value="')[1].split('"')[0]
    removed = nachweise.post(
        "/formulare/nachweise/schritt/1/",
        {
            "belege__count": "2",
            "belege__0__beleg__kept": kept,
            "belege__1__beleg": _pdf("zweiter.pdf"),
            "action": "remove:belege:0",
        },
    )
    html = removed.content.decode()
    assert "Hochgeladen: zweiter.pdf" in html and "erster.pdf" not in html
    kept = html.split('name="belege__0__beleg__kept" value="')[1].split('"')[0]
    done = nachweise.post(
        "/formulare/nachweise/schritt/1/", {"belege__count": "1", "belege__0__beleg__kept": kept}
    )
    assert done.status_code == 302
    saved = draft_data(FormDraft.objects.get())
    assert [entry["beleg"]["filename"] for entry in saved["belege"]] == ["zweiter.pdf"]


@pytest.mark.django_db
def test_a_file_of_another_draft_cannot_be_claimed(nachweise: Any, client: Any) -> None:
    from django.test import Client

    from rathaus.forms.models import Upload

    other = Client()
    other.post("/formulare/nachweise/beginnen/")
    other.post(
        "/formulare/nachweise/schritt/1/",
        {"belege__count": "1", "belege__0__beleg": _pdf("fremd.pdf")},
    )
    stolen = f"upload:{Upload.objects.get(filename='fremd.pdf').token}"
    response = nachweise.post(
        "/formulare/nachweise/schritt/1/",
        {"belege__count": "1", "belege__0__beleg__kept": stolen, "belege__0__beleg": stolen},
    )
    assert response.status_code == 422 and "fremd.pdf" not in response.content.decode()


@pytest.mark.parametrize("failure", ["s3", "disk"])
def test_a_storage_that_refuses_the_file_gives_a_message_not_an_error_page(
    monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    from botocore.exceptions import EndpointConnectionError
    from django.utils import translation

    def refuse(name: str, data: bytes) -> None:
        if failure == "s3":
            raise EndpointConnectionError(endpoint_url="http://s3.internal:9000")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("rathaus.core.blobs.write", refuse)
    upload = SimpleUploadedFile("antrag.pdf", b"%PDF-1.7 Antrag", content_type="application/pdf")
    with pytest.raises(UploadRejected) as refused:
        check_and_store(upload)
    assert "konnte gerade nicht gespeichert werden" in str(refused.value)
    with translation.override("en"):
        assert "could not be stored" in str(refused.value)
