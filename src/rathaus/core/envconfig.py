"""Typed helpers to read settings from the environment (healthchecks' envbool/envint style).

Every variable may also be given as ``<NAME>_FILE``: the path of a file holding the value, the
way container secrets are mounted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, overload
from urllib.parse import parse_qs, unquote, urlsplit


@overload
def env(name: str) -> str | None: ...
@overload
def env(name: str, default: str) -> str: ...
def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None and os.environ.get(f"{name}_FILE"):
        value = Path(os.environ[f"{name}_FILE"]).read_text().strip()
    if value is None or value == "":
        return default
    return value


def envbool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}={value!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def envint(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not an integer") from None


def envlist(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


_EMAIL_BACKENDS = {
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
    "submission": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
}


def parse_email_url(url: str) -> dict[str, Any]:
    """``smtp://user:password@host:587?tls=1`` -> Django's EMAIL_* settings."""
    parts = urlsplit(url)
    if parts.scheme not in _EMAIL_BACKENDS:
        raise ValueError(
            f"EMAIL_URL scheme {parts.scheme!r} is not one of {sorted(_EMAIL_BACKENDS)}"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    settings: dict[str, Any] = {"EMAIL_BACKEND": _EMAIL_BACKENDS[parts.scheme]}
    if parts.scheme in {"smtp", "smtps", "submission"}:
        settings.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=parts.port or {"smtps": 465, "submission": 587}.get(parts.scheme, 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=parts.scheme == "smtps" or query.get("ssl") == "1",
            EMAIL_USE_TLS=parts.scheme == "submission" or query.get("tls") == "1",
            EMAIL_TIMEOUT=int(query.get("timeout", "30")),
        )
    elif parts.scheme == "file":
        settings["EMAIL_FILE_PATH"] = parts.path
    return settings


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str | None,
    access_key: str | None,
    secret_key: str | None,
    region: str,
    addressing: str = "path",
    prefix: str = "",
) -> dict[str, Any]:
    """The STORAGES entry of S3-compatible object storage (django-storages): private objects,
    overwritten in place, and a client that fails within a request's time."""
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "access_key": access_key,
            "secret_key": secret_key,
            "region_name": region,
            "location": prefix,
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": True,
            # gunicorn gives a request 60 s: connect and read time out well before, with a
            # few quick retries (the client config replaces django-storages' own, so the
            # addressing style goes here too)
            "client_config": Config(
                s3={"addressing_style": addressing},
                signature_version="s3v4",
                connect_timeout=5,
                read_timeout=20,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        },
    }
