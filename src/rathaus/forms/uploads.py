"""Attachments: checked by their content (magic bytes), not by their name; limited in size;
stored outside the web root under a random name; the original name is kept only, sanitised,
for display; images are opened and verified to be real images; every file passes the virus
scanner (forms.contrib.virusscan) before it is kept."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image

from rathaus.forms.contrib.virusscan import ScanError, get_scanner

SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class UploadRejected(Exception):
    """The file is refused; the message says why, in the person's language."""


def upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sanitise_filename(name: str) -> str:
    """A name to show: no path parts, no control characters, at most 100 characters."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip(" .")
    return name[:100] or "datei"


def detect_type(head: bytes) -> str | None:
    for content_type, signatures in SIGNATURES.items():
        if any(head.startswith(signature) for signature in signatures):
            return content_type
    return None


def _real_image(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except Exception:  # noqa: BLE001 - anything Pillow cannot read is not an image for us
        return False
    return True


def check_and_store(
    file: UploadedFile, *, max_bytes: int = MAX_UPLOAD_BYTES
) -> tuple[str, dict[str, object]]:
    """Store an accepted file: (token, metadata). Raises UploadRejected otherwise."""
    size = file.size or 0
    if size == 0:
        raise UploadRejected(_("Die Datei ist leer."))
    if size > max_bytes:
        raise UploadRejected(
            _("Die Datei ist zu groß (höchstens %(mb)d MB).") % {"mb": max_bytes // (1024 * 1024)}
        )
    head = file.read(16)
    file.seek(0)
    content_type = detect_type(head)
    if content_type is None:
        raise UploadRejected(_("Bitte laden Sie eine PDF-, PNG- oder JPEG-Datei hoch."))
    data = file.read()
    file.seek(0)
    if content_type.startswith("image/") and not _real_image(data):
        raise UploadRejected(_("Die Bilddatei ist beschädigt oder kein echtes Bild."))
    try:
        found = get_scanner().scan(data)
    except ScanError:
        raise UploadRejected(
            _("Die Datei konnte gerade nicht geprüft werden. Bitte versuchen Sie es später erneut.")
        ) from None
    if found:
        raise UploadRejected(_("Die Datei enthält Schadsoftware und wurde nicht angenommen."))
    token = secrets.token_hex(24)
    digest = hashlib.sha256()
    with (upload_dir() / token).open("xb") as target:
        for chunk in file.chunks():
            digest.update(chunk)
            target.write(chunk)
    return token, {
        "filename": sanitise_filename(file.name or ""),
        "content_type": content_type,
        "size": size,
        "sha256": digest.hexdigest(),
    }
