"""Submission figures (issue 5).

1. Complete Gewerbeanmeldung submissions (132 fields) through POST /api/v1/forms/{slug}/
   submissions under concurrent load (wrk on loopback, gunicorn with two workers), on SQLite
   and on PostgreSQL: submissions/s and p99, next to a bare Django view that inserts the same
   JSON into one table, served by the same processes in the same run, the two taking turns
   in five rounds of 5 s; the ratio reported is the median round's. Target: at least half
   of the bare view's throughput.
2. The receipt PDF of such a submission (typst, PDF/A-3b + PDF/UA-1): p50/p95, next to
   WeasyPrint rendering the equivalent HTML in the same run. Target: under 40 ms.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench" / "submissions"
SLUG = "gewerbeanmeldung"
RECEIPT_RUNS = int(os.environ.get("BENCH_RECEIPT_RUNS", "60"))
ROUNDS = int(os.environ.get("BENCH_SUBMIT_ROUNDS", "5"))
ROUND_DURATION = "5s"


def say(text: str) -> None:
    print(text, flush=True)


# -- in the worker process (its DATABASE_URL is the database to measure) ------------------


def _django() -> None:
    import django

    django.setup()


def prepare() -> None:
    """Migrate, publish the demo forms, write a complete valid Gewerbeanmeldung as JSON."""
    _django()
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)
    from bench.forms import sample
    from rathaus.forms.demo import load_demo_forms
    from rathaus.forms.selectors import form_published_version

    load_demo_forms()
    version = form_published_version(slug=SLUG)
    body = sample(version.json_schema, german_text())
    (WORK / "body.json").write_text(json.dumps(body, ensure_ascii=False))
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_insert")
        cursor.execute(
            "CREATE TABLE bench_insert (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
            if connection.vendor == "sqlite"
            else "CREATE TABLE bench_insert (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)"
        )
    print(json.dumps({"fields": len(body)}))


def german_text(seed: int = 7) -> Callable[[dict[str, Any]], str]:
    """Free-text answers as people write them, not "x": words of the German service catalogue
    (LeiKa names), 1 to 4 per answer within the field's maximum length; deterministic. Real
    text matters here: the stored answers are compressed before they are encrypted."""
    import csv

    from rathaus.catalog import services as catalog

    with open(Path(catalog.__file__).parent / "data" / "leika-services.csv", encoding="utf-8") as f:
        names = [row["name"] for row in csv.DictReader(f)]
    words = sorted({word for name in names for word in name.split() if word.isalpha()})
    rng = random.Random(seed)  # noqa: S311 - sample data, not a secret

    def text(schema: dict[str, Any]) -> str:
        limit = schema.get("maxLength", 200)
        answer = ""
        for word in (rng.choice(words) for _ in range(rng.randint(1, 4))):
            if len(answer) + 1 + len(word) > limit:
                break
            answer = f"{answer} {word}".strip()
        return answer if len(answer) >= schema.get("minLength", 1) else "x" * schema["minLength"]

    return text


def count() -> None:
    _django()
    from rathaus.submissions.models import Submission

    print(json.dumps({"submissions": Submission.objects.count()}))


def receipts() -> None:
    """p50/p95 of the receipt (typst) and of WeasyPrint on the equivalent HTML."""
    _django()
    from django.template import Context, Template
    from django.utils import translation
    from weasyprint import HTML

    from rathaus.core.pdf import render_pdf
    from rathaus.submissions.models import Submission
    from rathaus.submissions.receipt import TEMPLATE, receipt_data

    submission = Submission.objects.filter(version__form__slug=SLUG).latest("pk")
    with translation.override("de"):
        data = receipt_data(submission)
    html = Template(HTML_TEMPLATE).render(Context({"d": data}))

    def typst() -> bytes:
        return render_pdf(TEMPLATE, data=data, created=submission.submitted_at)

    def weasy() -> bytes:
        return bytes(HTML(string=html).write_pdf(pdf_variant="pdf/a-3b"))

    pages = typst().count(b"/Type /Page\n") or typst().count(b"/Type/Page")
    typst(), weasy()  # warm-up
    typst_ms, weasy_ms = [], []
    for _ in range(RECEIPT_RUNS):  # interleaved, so that noise hits both
        for target, times in ((typst, typst_ms), (weasy, weasy_ms)):
            start = time.perf_counter()
            target()
            times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"typst_ms": typst_ms, "weasy_ms": weasy_ms, "pages": pages}))


HTML_TEMPLATE = """<!doctype html><html lang="de"><head><meta charset="utf-8">
<title>{{ d.title }} {{ d.reference }}</title>
<style>@page { size: A4; margin: 2cm 2.2cm }
body { font-family: serif; font-size: 10.5pt } table { width: 100%; border-collapse: collapse }
td, th { border-top: 0.4pt solid #aaa; padding: 5pt 4pt; vertical-align: top; text-align: left }
tr { break-inside: avoid }</style></head><body>
<p><strong>{{ d.sender }}</strong><br>{{ d.office }} <span style="float:right">{{ d.received }}</span></p>
<h1>{{ d.title }}</h1><p>{{ d.labels.intro }}</p>
<p>{{ d.labels.reference }}: <strong>{{ d.reference }}</strong></p>
<h2>{{ d.labels.answers }}</h2>
{% for section in d.sections %}<h3>{{ section.title }}</h3><table><thead><tr><th>{{ d.labels.question }}</th>
<th>{{ d.labels.answer }}</th></tr></thead><tbody>{% for row in section.rows %}<tr><td>{{ row.label }}</td>
<td>{{ row.value }}</td></tr>{% endfor %}</tbody></table>{% endfor %}
<h2>{{ d.labels.status }}</h2><p>{{ d.status_url }}</p></body></html>"""


# -- in the runner ---------------------------------------------------------------------------


def _worker(env: dict[str, str], command: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def run_database(label: str, database_url: str, wrk: str) -> dict[str, Any]:
    from bench.run import gunicorn, run_wrk

    folder = WORK / label
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "RATHAUS_VAR_DIR": str(folder),
        "RATHAUS_DEMO": "0",
        "RATHAUS_LOG_LEVEL": "WARNING",
        "RATHAUS_RATELIMIT_SUBMIT": "100000000/h",
        "PYTHONPATH": str(ROOT),
    }
    prepared = _worker(env, "prepare")
    # What the run before wrote may still sit in the page cache: written out now, it does not
    # slow down this run's commits (which wait for the disk).
    os.sync()
    script = WORK / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = io.open("{WORK / "body.json"}"):read("*a")\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    rounds: list[dict[str, dict[str, float]]] = []
    with gunicorn(env, 2) as base:
        urls = {
            "bare": base + "/bench/insert",
            "submit": base + f"/api/v1/forms/{SLUG}/submissions",
        }
        for url in urls.values():
            run_wrk(wrk, url, script=script, warm_up=False, duration="2s")  # warm-up
        # Shorter runs taking turns: a slow spell of this shared machine hits both sides of a
        # round alike, so the ratio of each round holds where the absolute figures do not.
        for number in range(ROUNDS):  # who goes first changes, so neither side always follows
            order = list(urls.items()) if number % 2 == 0 else list(urls.items())[::-1]
            rounds.append(
                {
                    name: run_wrk(wrk, url, script=script, warm_up=False, duration=ROUND_DURATION)
                    for name, url in order
                }
            )
    stored = _worker(env, "count")["submissions"]
    ratios = [r["submit"]["rps"] / r["bare"]["rps"] for r in rounds]
    middle = rounds[ratios.index(statistics.median_low(ratios))]
    result = {
        "fields": prepared["fields"],
        "bare": middle["bare"],
        "submit": middle["submit"],
        "ratios": ratios,
        "stored": stored,
    }
    if label == "sqlite":
        result["receipt"] = _worker(env, "receipts")
    return result


def main(wrk: str) -> dict[str, Any]:
    from bench.forms import percentile
    from bench.search import fresh_postgres

    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    sqlite_file = WORK / "sqlite" / "bench.sqlite3"
    for leftover in sqlite_file.parent.glob("bench.sqlite3*"):  # a fresh database each run
        leftover.unlink()
    results["sqlite"] = run_database("sqlite", f"sqlite:///{sqlite_file}", wrk)
    postgres = fresh_postgres()
    if postgres:
        results["postgresql"] = run_database("postgresql", postgres, wrk)
    for label, result in results.items():
        s, b = result["submit"], result["bare"]
        say(
            f"submissions ({label}, Gewerbeanmeldung {result['fields']} answers, API): "
            f"{s['rps']:.0f}/s, p99 {s['p99_ms']:.1f} ms, non-2xx {s['non_2xx']:.0f} | "
            f"baseline bare view inserting the same JSON: {b['rps']:.0f}/s, p99 {b['p99_ms']:.1f} ms"
            f" | ratio {s['rps'] / b['rps']:.2f}, the median of {len(result['ratios'])} rounds "
            f"({' '.join(f'{r:.2f}' for r in result['ratios'])}) (target: at least 0.5; "
            f"gunicorn 2 workers; {result['stored']} submissions stored)"
        )
    receipt = results["sqlite"]["receipt"]
    t, w = receipt["typst_ms"], receipt["weasy_ms"]
    say(
        f"receipt PDF (Gewerbeanmeldung, {receipt['pages']} pages, typst PDF/A-3b + UA-1): "
        f"p50 {statistics.median(t):.1f} ms, p95 {percentile(t, 95):.1f} ms | baseline "
        f"WeasyPrint on the equivalent HTML: p50 {statistics.median(w):.1f} ms, "
        f"p95 {percentile(w, 95):.1f} ms | {len(t)} runs each (target: under 40 ms)"
    )
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    {"prepare": prepare, "count": count, "receipts": receipts}[sys.argv[1]]()
