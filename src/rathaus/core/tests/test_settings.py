"""Settings come from the environment only, with safe defaults. Each case starts a fresh
Python process, because settings are read once at start-up."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rathaus.core.envconfig import envbool, parse_email_url

READ_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
names = ["DEBUG", "SECRET_KEY", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
         "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT", "ALLOWED_HOSTS", "EMAIL_BACKEND",
         "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_PASSWORD", "CONTENT_SECURITY_POLICY",
         "DATABASES"]
print(json.dumps({n: getattr(settings, n, None) for n in names}, default=str))
"""


def _settings(tmp_path: Path, **env: str) -> dict[str, Any]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("RATHAUS_", "EMAIL_URL"))}
    clean.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "rathaus.settings",
            "RATHAUS_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_defaults_are_safe_debug_off_and_a_secret_key_made_once(tmp_path: Path) -> None:
    first = _settings(tmp_path)
    assert first["DEBUG"] is False
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first["SECRET_KEY"]) >= 50
    assert _settings(tmp_path)["SECRET_KEY"] == first["SECRET_KEY"]  # kept across restarts


def test_postgresql_prepares_the_submission_statement_unless_turned_off(tmp_path: Path) -> None:
    """For a pooler in transaction mode that cannot keep prepared statements."""
    url = "postgres://rathaus@db.internal:5432/rathaus"

    def options(**env: str) -> dict[str, Any]:
        found: dict[str, Any] = _settings(tmp_path, DATABASE_URL=url, **env)["DATABASES"]
        return found["default"].get("OPTIONS", {})  # type: ignore[no-any-return]

    assert options()["prepare_threshold"] == 5
    assert "prepare_threshold" not in options(RATHAUS_DB_PREPARED_STATEMENTS="false")
    assert "prepare_threshold" not in _settings(tmp_path)["DATABASES"]["default"]["OPTIONS"]


def test_demo_mode_turns_debug_on(tmp_path: Path) -> None:
    assert _settings(tmp_path, RATHAUS_DEMO="1")["DEBUG"] is True


def test_secret_key_and_other_secrets_can_come_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "key.txt"
    secret.write_text("from-a-mounted-secret-0123456789\n")
    mail = tmp_path / "mail.txt"
    mail.write_text("smtp://robot:s%40cret@mail.example:587?tls=1")
    values = _settings(tmp_path, RATHAUS_SECRET_KEY_FILE=str(secret), EMAIL_URL_FILE=str(mail))
    assert values["SECRET_KEY"] == "from-a-mounted-secret-0123456789"
    assert values["EMAIL_HOST"] == "mail.example"
    assert values["EMAIL_PORT"] == 587
    assert values["EMAIL_HOST_PASSWORD"] == "s@cret"
    assert not (tmp_path / "secret_key").exists()


def test_https_turns_on_secure_cookies_hsts_and_redirect(tmp_path: Path) -> None:
    plain = _settings(tmp_path)
    assert not plain["SESSION_COOKIE_SECURE"] and not plain["SECURE_HSTS_SECONDS"]
    https = _settings(tmp_path, RATHAUS_HTTPS="1")
    assert https["SESSION_COOKIE_SECURE"] and https["CSRF_COOKIE_SECURE"]
    assert https["SECURE_HSTS_SECONDS"] >= 31536000
    assert https["SECURE_SSL_REDIRECT"] is True


def test_content_security_policy_allows_no_inline_script(tmp_path: Path) -> None:
    policy = _settings(tmp_path, RATHAUS_HTTPS="1")["CONTENT_SECURITY_POLICY"]
    assert "'unsafe-inline'" not in str(policy)
    assert "'unsafe-eval'" not in str(policy)


@pytest.mark.django_db
def test_every_page_is_sent_with_the_csp_and_security_headers(client: Any) -> None:
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_wrong_boolean_is_an_error_not_a_silent_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATHAUS_SOMETHING", "maybe")
    with pytest.raises(ValueError, match="not a boolean"):
        envbool("RATHAUS_SOMETHING", False)


def test_unknown_email_url_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="EMAIL_URL scheme"):
        parse_email_url("pigeon://coop")
