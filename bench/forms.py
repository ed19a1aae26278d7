"""Form engine figures (issue 4): FIM import time of both demo schemas; server-side
validation of a complete Gewerbeanmeldung submission (132 fields) with the compiled
validator, next to an uncompiled `jsonschema` validation of the same data in the same run;
rendering of the form's largest step. Runs in-process (no database needed)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "rathaus" / "forms" / "data" / "fim-demo"
SAMPLES = {
    r"^\d{4}-\d{2}-\d{2}$": "2026-11-26",
    r"^-?\d+([.,]\d+)?$": "12,5",
    r"^\d{1,12}([.,]\d{1,2})?$": "12,50",
    r"^[0-9]{5}$": "04109",
}


def sample(schema: dict[str, Any], text: Callable[[dict[str, Any]], str] | None = None) -> Any:
    """A complete valid value for ``schema`` (every property, lists at their minimum or one);
    free text from ``text(schema)`` when given, else the shortest valid string."""
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("const") is True:
        return True
    kind = schema.get("type")
    if kind == "object":
        return {name: sample(prop, text) for name, prop in schema.get("properties", {}).items()}
    if kind == "array":
        return [sample(schema["items"], text) for _ in range(max(schema.get("minItems", 0), 1))]
    if kind == "boolean":
        return True
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if "pattern" in schema:
        return SAMPLES[schema["pattern"]]
    if text is not None and "format" not in schema:
        return text(schema)
    return "x" * max(schema.get("minLength", 1), 1)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(function: Any, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rathaus.settings")
    os.environ.setdefault("RATHAUS_VAR_DIR", str(ROOT / "var" / "bench" / "forms"))
    import django

    django.setup()
    import jsonschema
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from rathaus.forms import rendering
    from rathaus.forms.fim import parse_file
    from rathaus.forms.schema import json_schema, validator_for

    parking = DATA / "bewohnerparken" / "S05000058V1.0_xdf2.xml"
    trade = DATA / "gewerbeanmeldung" / "S00000009_xdatenfelder.xml"
    for label, path in (("Bewohnerparkausweis", parking), ("Gewerbeanmeldung", trade)):
        parse_file(path)  # XSD loaded once per process
        times = timed(lambda path=path: parse_file(path), 10)
        print(
            f"FIM import {label}: p50 {statistics.median(times):.0f} ms over 10 runs "
            f"(parse, XSD validation, mapping)",
            flush=True,
        )

    definition, _report = parse_file(trade)
    schema = json_schema(definition)
    data = sample(schema)
    compiled = validator_for("bench-trade", schema)
    assert compiled.is_valid(data), list(compiled.iter_errors(data))[:3]
    fast = timed(lambda: compiled.is_valid(data), 1000)
    slow = timed(
        lambda: jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator), 200
    )
    print(
        f"validation Gewerbeanmeldung ({len(data)} top-level values, 132 fields): compiled "
        f"p50 {statistics.median(fast):.3f} ms, p95 {percentile(fast, 95):.3f} ms (target < 2 ms) | "
        f"baseline uncompiled jsonschema p50 {statistics.median(slow):.2f} ms, "
        f"p95 {percentile(slow, 95):.2f} ms | ratio {statistics.median(slow) / statistics.median(fast):.0f}x",
        flush=True,
    )

    def count(items: list[Any]) -> int:
        return sum(1 + count(getattr(i, "items", [])) for i in items)

    largest = max(definition.steps, key=lambda step: count(step.items))
    from rathaus.forms.models import Form, FormVersion

    version = FormVersion(form=Form(slug="gewerbeanmeldung"))
    request = RequestFactory().get("/formulare/gewerbeanmeldung/schritt/1/")
    request.user = AnonymousUser()

    def render() -> None:
        nodes = rendering.build(largest.items, definition, {}, None, {}, {})
        render_to_string(
            "forms/step.html",
            {
                "title": "Gewerbeanmeldung",
                "step_title": rendering.text(largest.title),
                "number": 1,
                "total": len(definition.steps),
                "nodes": nodes,
                "errors": [],
                "version": version,
            },
            request=request,
        )

    render()
    times = timed(render, 100)
    print(
        f"render largest step of Gewerbeanmeldung ({count(largest.items)} items): "
        f"p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms (target < 30 ms)",
        flush=True,
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
