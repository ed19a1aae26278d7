"""The browser tier: Debian's Chromium driven by Playwright, axe-core on every page."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# tests (creating users) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tier cannot run (make browser)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def console_errors(page: Any) -> Iterator[list[str]]:
    """Console errors of the page: a refused inline script or style shows up here."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield errors


class Axe:
    def __init__(self, page: Any) -> None:
        self.page = page

    def serious_violations(self) -> list[dict[str, Any]]:
        # evaluate() is not subject to the page's CSP, so axe-core needs no inline script.
        self.page.evaluate(AXE.read_text() + "\n;undefined")
        result = self.page.evaluate(
            """async () => await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}
            })"""
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def check(self) -> None:
        violations = self.serious_violations()
        assert not violations, json.dumps(violations, indent=2, ensure_ascii=False)


@pytest.fixture
def axe(page: Any) -> Axe:
    return Axe(page)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # A browser set to German, as most of the city's users have.
    return {**browser_context_args, "locale": "de-DE"}


@pytest.fixture(autouse=True)
def _short_timeouts(page: Any) -> None:
    page.set_default_timeout(10_000)
