"""Key rotation: re-encrypt everything stored encrypted under the newest key, so that an old
key can be removed from RATHAUS_DATA_KEYS afterwards (``rathaus rotate-keys``).

Each app registers what it keeps encrypted (in its ``AppConfig.ready``): text fields holding a
token, keys inside JSON fields, and folders of encrypted files. Nothing is decrypted to disk or
logged; a value that no configured key opens is reported and left as it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import transaction

from rathaus.core import blobs
from rathaus.core.crypto import DecryptionError, is_current, rotate_token


@dataclass
class RotationReport:
    rotated: int = 0
    current: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (where, why)

    def summary(self) -> str:
        return (
            f"{self.rotated} re-encrypted, {self.current} already under the newest key, "
            f"{len(self.failed)} failed"
        )


Job = Callable[[RotationReport], None]
_jobs: list[tuple[str, Job]] = []


def jobs() -> list[tuple[str, Job]]:
    return list(_jobs)


def register_job(name: str, job: Job) -> None:
    """Anything else that depends on the keys (e.g. a blind index to recompute)."""
    _jobs.append((name, job))


def register_fields(model_label: str, *fields: str) -> None:
    """Text fields of ``model_label`` ("app.Model") that hold an encrypted token."""
    for name in fields:
        _jobs.append((f"{model_label}.{name}", _field_job(model_label, name)))


def register_json_key(model_label: str, json_field: str, key: str) -> None:
    """A key inside a JSON field whose value, where present, is an encrypted token."""
    _jobs.append((f"{model_label}.{json_field}[{key}]", _json_job(model_label, json_field, key)))


def register_folder(folder: str) -> None:
    """A folder of the file storage (core.blobs) whose files are each one encrypted token
    (uploads, receipts)."""
    _jobs.append((folder, _folder_job(folder)))


def _rotated(value: str, where: str, report: RotationReport) -> str | None:
    if is_current(value):
        report.current += 1
        return None
    try:
        new = rotate_token(value).decode()
    except DecryptionError:
        report.failed.append((where, "no configured key opens it / kein Schlüssel passt"))
        return None
    report.rotated += 1
    return new


def _batches(queryset: Any, size: int = 500) -> Iterator[list[Any]]:
    last = 0
    while True:
        batch = list(queryset.filter(pk__gt=last).order_by("pk")[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _field_job(model_label: str, name: str) -> Job:
    def run(report: RotationReport) -> None:
        model = apps.get_model(model_label)
        for batch in _batches(model.objects.exclude(**{name: ""}).only("pk", name)):
            with transaction.atomic():
                for obj in batch:
                    old = getattr(obj, name)
                    new = _rotated(old, f"{model_label} {obj.pk}", report)
                    if new is not None:  # only if nobody changed it meanwhile
                        model.objects.filter(pk=obj.pk, **{name: old}).update(**{name: new})

    return run


def _json_job(model_label: str, json_field: str, key: str) -> Job:
    def run(report: RotationReport) -> None:
        model = apps.get_model(model_label)
        for batch in _batches(model.objects.only("pk", json_field)):
            with transaction.atomic():
                for obj in batch:
                    data = getattr(obj, json_field)
                    if not isinstance(data, dict) or not isinstance(data.get(key), str):
                        continue
                    new = _rotated(data[key], f"{model_label} {obj.pk}", report)
                    if new is not None:  # only if nobody changed it meanwhile
                        model.objects.filter(
                            pk=obj.pk, **{f"{json_field}__{key}": data[key]}
                        ).update(**{json_field: {**data, key: new}})

    return run


def _folder_job(folder: str) -> Job:
    def run(report: RotationReport) -> None:
        # a "." marks no file of ours: a replacement being written (local storage)
        for name in (n for n in blobs.names(folder) if "." not in n):
            try:
                stored = blobs.fetch(f"{folder}/{name}")
            except FileNotFoundError:
                continue  # deleted meanwhile (retention)
            new = _rotated(stored.raw.decode("ascii", "replace"), name, report)
            if new is not None:  # only if nobody deleted or replaced it meanwhile
                blobs.replace(stored, new.encode("ascii"))

    return run
