"""Private files, encrypted at rest, in Django's default storage: attachments, released
documents (folder ``uploads``) and receipts (``receipts``), each named by a random token.

The default storage is a local folder on one machine (RATHAUS_STORAGE_ROOT) and S3-compatible
object storage with several app nodes (RATHAUS_STORAGE_BACKEND=s3), so that a file one node
stored is there for every other node and worker. Names are ``<folder>/<token>``, the same
paths under RATHAUS_STORAGE_ROOT as before files went through the storage, so existing
installations keep theirs. Encryption happens here and only here (rathaus.core.crypto, the
keys of RATHAUS_DATA_KEYS): callers give and get plain bytes."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, default_storage

from rathaus.core.crypto import decrypt_bytes, encrypt_bytes

UPLOADS = "uploads"
RECEIPTS = "receipts"


def _storage() -> Storage:
    # looked up on every call: tests (and only tests) switch the default storage
    return default_storage


def write(name: str, data: bytes) -> None:
    """Store ``data`` encrypted as ``name`` (a new random name: nobody reads it before the
    row that names it is committed)."""
    stored = _storage().save(name, ContentFile(encrypt_bytes(data)))
    if stored != name:  # the storage chose another name: nothing would find the file
        _storage().delete(stored)
        raise RuntimeError(f"the storage kept {name!r} as {stored!r}; allow overwriting")


def read(name: str) -> bytes:
    """The decrypted content; ``FileNotFoundError`` when there is no such file."""
    return decrypt_bytes(fetch(name).raw)


def delete(name: str) -> None:
    """Remove the file; a file that is already gone is fine."""
    _storage().delete(name)


def exists(name: str) -> bool:
    return bool(_storage().exists(name))


def names(folder: str) -> list[str]:
    """The names of the files in ``folder`` (without the folder), sorted."""
    try:
        _folders, files = _storage().listdir(folder)
    except FileNotFoundError:  # a local folder that was never created
        return []
    return sorted(files)


# -- replacing in place (key rotation) ---------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A file as it is stored (encrypted), with what identifies this version of it."""

    name: str
    raw: bytes
    etag: str | None = None


def fetch(name: str) -> Stored:
    """The stored (encrypted) bytes; ``FileNotFoundError`` when there is no such file."""
    storage = _storage()
    if _is_s3(storage):
        return _fetch_s3(storage, name)
    with storage.open(name, "rb") as handle:
        return Stored(name=name, raw=handle.read())


def replace(stored: Stored, raw: bytes) -> bool:
    """Put ``raw`` (already encrypted) in place of ``stored`` if the file is still exactly
    that version; False if it was deleted (retention) or replaced meanwhile, which then
    stays so. Readers see the old file or the new one, never half of one: S3 replaces an
    object at once and refuses the write if the ETag no longer matches (If-Match); a local
    file is written beside and renamed over the old one."""
    storage = _storage()
    if _is_s3(storage):
        return _replace_s3(storage, stored, raw)
    try:
        unchanged = fetch(stored.name).raw == stored.raw
    except FileNotFoundError:
        unchanged = False
    if not unchanged:
        return False
    if isinstance(storage, FileSystemStorage):
        path = Path(storage.path(stored.name))
        temporary = path.with_name(f"{path.name}.{secrets.token_hex(4)}.rotating")
        temporary.write_bytes(raw)
        os.replace(temporary, path)
    else:
        storage.save(stored.name, ContentFile(raw))
    return True


def _is_s3(storage: Storage) -> bool:
    return type(storage).__module__.startswith("storages.backends.s3")


def _key(storage: Any, name: str) -> str:
    """The object key of ``name`` (with RATHAUS_STORAGE_PREFIX), as S3Storage makes it."""
    from storages.utils import clean_name

    key: str = storage._normalize_name(clean_name(name))
    return key


def _fetch_s3(storage: Any, name: str) -> Stored:
    # one request for the bytes and their ETag (S3Storage.open would ask twice)
    client = storage.connection.meta.client
    try:
        answer = client.get_object(Bucket=storage.bucket_name, Key=_key(storage, name))
    except client.exceptions.NoSuchKey:
        raise FileNotFoundError(name) from None
    return Stored(name=name, raw=answer["Body"].read(), etag=answer["ETag"])


def _replace_s3(storage: Any, stored: Stored, raw: bytes) -> bool:
    from botocore.exceptions import ClientError

    client = storage.connection.meta.client
    parameters = dict(storage.get_object_parameters(stored.name))
    if storage.default_acl:
        parameters.setdefault("ACL", storage.default_acl)
    try:
        client.put_object(
            Bucket=storage.bucket_name,
            Key=_key(storage, stored.name),
            Body=raw,
            IfMatch=stored.etag,
            **parameters,
        )
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status in (404, 409, 412):  # deleted, or replaced (412, or 409 while racing)
            return False
        raise
    return True
