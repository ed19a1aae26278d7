"""Attachments: checked by their content (magic bytes), not by their name; limited in size;
stored encrypted under a random name in the file storage (core.blobs, folder ``uploads``:
never in the web root, on S3 with several app nodes); the original name is kept only,
sanitised, for display; images are opened and verified to be real images; every file passes
the virus scanner (forms.contrib.virusscan) before it is kept."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image

from rathaus.core import blobs
from rathaus.forms.contrib.virusscan import ScanError, get_scanner
from rathaus.forms.definition import MAX_UPLOAD_BYTES

logger = logging.getLogger(__name__)
# The object storage (S3) or the local disk refusing a write: the person is told to try again.
STORAGE_ERRORS = (BotoCoreError, ClientError, OSError)

SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}


class UploadRejected(Exception):
    """The file is refused; ``str()`` says why in the active language (so the API can give
    the reason in German and English): a lazy message and its parameters, some of which are
    themselves worded per language (callables)."""

    def __init__(self, message: Promise, **params: Callable[[], str] | str) -> None:
        super().__init__(str(message))
        self.message = message
        self.params = params

    def __str__(self) -> str:
        values = {k: v() if callable(v) else v for k, v in self.params.items()}
        return str(self.message) % values if values else str(self.message)


def new_token() -> str:
    """The random name of a stored file (attachment, released document, receipt)."""
    return secrets.token_hex(24)


def upload_name(token: str) -> str:
    """The file's name in the storage; only for a token as ``new_token`` makes them."""
    if not re.fullmatch(r"[0-9a-f]{48}", token):
        raise FileNotFoundError(token)
    return f"{blobs.UPLOADS}/{token}"


def read_upload(token: str) -> bytes:
    """The content of a stored file (decrypted); FileNotFoundError when it is gone."""
    return blobs.read(upload_name(token))


def upload_store(content: bytes) -> str:
    """Keep ``content`` (encrypted) as a new file in the uploads folder: its token."""
    token = new_token()
    blobs.write(upload_name(token), content)
    return token


def upload_delete(token: str) -> None:
    """Remove a stored file; one that is gone already is fine."""
    blobs.delete(upload_name(token))


def sanitise_filename(name: str) -> str:
    """A name to show: no path parts, no control characters, at most 100 characters."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "", name).strip(" .")
    return name[:100] or "datei"


def size_text(size: int) -> str:
    """10 MB, 2 MB, 500 KB: for people, in binary units as browsers count."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB".replace(".", ",")
    return f"{max(size // 1024, 1)} KB"


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


TYPE_NAMES = {"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG"}
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg,.jpeg"}


def accepted_types(media_types: Sequence[str]) -> list[str]:
    """The types a file field takes (all we recognise when the field names none)."""
    return [t for t in SIGNATURES if not media_types or t in media_types]


def types_text(media_types: Sequence[str]) -> str:
    """ "PDF, PNG oder JPEG" for the hint and the error message."""
    names = [TYPE_NAMES[t] for t in accepted_types(media_types)]
    if len(names) == 1:
        return names[0]
    return _("%(list)s oder %(last)s") % {"list": ", ".join(names[:-1]), "last": names[-1]}


def check_and_store(
    file: UploadedFile,
    *,
    max_bytes: int | None = None,
    media_types: Sequence[str] = (),
) -> tuple[str, dict[str, object]]:
    """Store an accepted file: (token, metadata). Raises UploadRejected otherwise. The limits
    are the field's (``max_bytes``, ``media_types``), at most ours."""
    data, meta = check_upload(file, max_bytes=max_bytes, media_types=media_types)
    try:
        token = upload_store(data)  # encrypted at rest, like drafts and submissions
    except STORAGE_ERRORS as exc:
        logger.error("upload not stored: storage error", extra={"error_type": type(exc).__name__})
        raise UploadRejected(
            gettext_lazy(
                "Die Datei konnte gerade nicht gespeichert werden. Bitte versuchen Sie es "
                "später erneut."
            )
        ) from None
    return token, meta


def check_upload(
    file: UploadedFile,
    *,
    max_bytes: int | None = None,
    media_types: Sequence[str] = (),
) -> tuple[bytes, dict[str, object]]:
    """The checks of ``check_and_store`` without keeping the file: (content, metadata)."""
    max_bytes = min(max_bytes or MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES)
    size = file.size or 0
    if size == 0:
        raise UploadRejected(gettext_lazy("Die Datei ist leer."))
    if size > max_bytes:
        raise UploadRejected(
            gettext_lazy("Die Datei ist zu groß (höchstens %(size)s)."), size=size_text(max_bytes)
        )
    head = file.read(16)
    file.seek(0)
    content_type = detect_type(head)
    if content_type is None or content_type not in accepted_types(media_types):
        raise UploadRejected(
            gettext_lazy("Bitte laden Sie eine Datei dieser Art hoch: %(types)s."),
            types=lambda: types_text(media_types),
        )
    data = file.read()
    file.seek(0)
    if content_type.startswith("image/") and not _real_image(data):
        raise UploadRejected(gettext_lazy("Die Bilddatei ist beschädigt oder kein echtes Bild."))
    try:
        found = get_scanner().scan(data)
    except ScanError:
        raise UploadRejected(
            gettext_lazy(
                "Die Datei konnte gerade nicht geprüft werden. Bitte versuchen Sie es später "
                "erneut."
            )
        ) from None
    if found:
        raise UploadRejected(
            gettext_lazy("Die Datei enthält Schadsoftware und wurde nicht angenommen.")
        )
    return data, {
        "filename": sanitise_filename(file.name or ""),
        "content_type": content_type,
        "size": size,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
