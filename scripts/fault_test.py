#!/usr/bin/env python3
"""The cluster's fault test (issue 13, point 4; `make test-cluster` runs it against a fresh
cluster and stops the cluster afterwards).

Citizens submit Bewohnerparkausweis applications with two attachments (a PDF and a PNG)
through nginx, as a browser does page by page and through the JSON API, fetch their receipts
and view their status pages; two demo caseworkers move the cases on. Meanwhile one app node
and one Celery worker are killed with SIGKILL and started again. Afterwards:

- every acknowledged submission exists exactly once, with its attachments, whose files are in
  the object storage, and with its receipt (fetched as a PDF, and kept in the object storage);
  a retried submit made no second submission;
- every outbox message is delivered (none left over, none dead), and the idempotent webhook
  receiver this script runs saw each expected key (once after de-duplication; repeats are
  counted) and no key it did not expect;
- every case moved is in its new status;
- the only 5xx answers or unanswered requests are those in flight on the killed node (started
  before the kill, failed within a few seconds of it): counted and reported.

    .venv/bin/python scripts/fault_test.py [--seconds 60] [--citizens 6] [--api-every 3]

Exit status 0: all held; 1: something did not; 2: no cluster is running.
"""

# ruff: noqa: S603 - runs the cluster script and the rathaus command of this checkout
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import clusterload as load  # noqa: E402 - the script's folder is not a package on sys.path

CLUSTER_DIR, STATE_FILE = load.CLUSTER_DIR, load.STATE_FILE
PYTHON = sys.executable
CLUSTER = [PYTHON, str(ROOT / "scripts" / "cluster.py")]
RATHAUS = str(Path(PYTHON).parent / "rathaus")


def say(text: str) -> None:
    print(text, flush=True)


def stamp(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).strftime("%H:%M:%S.%f")[:-3]


# -- the cluster ---------------------------------------------------------------------------


def rathaus(state: dict[str, Any], *args: str) -> str:
    """A ``rathaus`` management command against the cluster (its database, its keys)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("RATHAUS_", "DATABASE_"))},
        **state["env"],
        "RATHAUS_VAR_DIR": str(CLUSTER_DIR / "cli"),
        "RATHAUS_LOG_LEVEL": "WARNING",
    }
    (CLUSTER_DIR / "cli").mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [RATHAUS, *args], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode:
        raise RuntimeError(f"rathaus {' '.join(args)}: {done.stderr.strip()[-500:]}")
    return done.stdout


def cluster_command(*args: str) -> tuple[float, float, str]:
    """Run ``scripts/cluster.py ARGS``: (wall clock before, after, its output)."""
    before = time.time()
    done = subprocess.run(
        [*CLUSTER, *args], capture_output=True, text=True, check=False, timeout=180
    )
    after = time.time()
    output = (done.stdout + done.stderr).strip()
    if done.returncode:
        raise RuntimeError(f"cluster.py {' '.join(args)} failed: {output[-500:]}")
    return before, after, output


def connect(state: dict[str, Any]) -> Any:
    import psycopg

    return psycopg.connect(state["env"]["DATABASE_URL"], autocommit=True)


def query(db: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def storage_names(state: dict[str, Any]) -> tuple[set[str] | None, str]:
    """The last path component of every object in the cluster's bucket (stored files are
    named by their token; the folders are the app's business), or None and why not."""
    env = state["env"]
    if env.get("RATHAUS_STORAGE_BACKEND") != "s3":
        return None, "the cluster does not use S3 storage (RATHAUS_STORAGE_BACKEND)"
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=env["RATHAUS_STORAGE_ENDPOINT_URL"],
        aws_access_key_id=env.get("RATHAUS_STORAGE_ACCESS_KEY"),
        aws_secret_access_key=env.get("RATHAUS_STORAGE_SECRET_KEY"),
        region_name=env.get("RATHAUS_STORAGE_REGION", "eu-central-1"),
    )
    names: set[str] = set()
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=env.get("RATHAUS_STORAGE_BUCKET", "rathaus"),
        Prefix=env.get("RATHAUS_STORAGE_PREFIX", ""),
    )
    for page in pages:
        names.update(item["Key"].rsplit("/", 1)[-1] for item in page.get("Contents", []))
    return names, ""


# -- the faults ----------------------------------------------------------------------------


def serving(port: int) -> int:
    """Established TCP connections to ``port`` on this machine (nginx has no keep-alive to
    the nodes: each is a request in flight on the node listening there)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                count += 1
    return count


@dataclass
class Fault:
    """One process killed and started again, with the wall-clock times of both."""

    name: str
    kill_at: float  # when to kill, seconds into the run
    restart_at: float
    busy: Callable[[], bool] | None = None  # kill once this holds (5 s more at most)
    busy_what: str = ""  # what ``busy`` means, for the report
    killed: tuple[float, float] | None = None  # (before, after) the kill command
    restarted: tuple[float, float] | None = None
    busy_at_kill: bool | None = None
    problem: str = ""

    def run(self, t0: float, stop: threading.Event, recorder: load.Recorder) -> None:
        try:
            if stop.wait(max(0.0, t0 + self.kill_at - time.time())):
                return
            if self.busy is not None:
                deadline = time.time() + 5
                while not self.busy() and time.time() < deadline:
                    time.sleep(0.01)
                self.busy_at_kill = self.busy()
            before, after, _ = cluster_command("kill", self.name)
            self.killed = (before, after)
            recorder.event(f"kill {self.name}", before)
            say(f"  {stamp(before)}  killed {self.name} (SIGKILL)")
            stop.wait(max(0.0, t0 + self.restart_at - time.time()))  # restart even if stopped
            before, after, _ = cluster_command("restart", self.name)
            self.restarted = (before, after)
            recorder.event(f"restart {self.name}", after)
            say(f"  {stamp(after)}  {self.name} runs again (restart took {after - before:.1f} s)")
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            self.problem = str(exc)
            say(f"  {self.name}: {exc}")


# -- the run -------------------------------------------------------------------------------


@dataclass
class Report:
    lines: list[tuple[str, str, bool]] = field(default_factory=list)  # (check, detail, ok)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        self.lines.append((name, detail, ok))
        return ok

    @property
    def passed(self) -> bool:
        return all(ok for _, _, ok in self.lines)


def share(staff_count: int, index: int) -> Any:
    """Which references a caseworker takes: the cases are split between them."""
    return lambda reference: zlib.crc32(reference.encode()) % staff_count == index


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=60, help="how long the load runs")
    parser.add_argument("--citizens", type=int, default=6, help="citizens at the same time")
    parser.add_argument(
        "--api-every", type=int, default=3, help="every Nth citizen uses the JSON API (0: none)"
    )
    parser.add_argument("--staff", type=int, default=2, choices=(0, 1, 2))
    parser.add_argument("--node", default="node1", help="the app node to kill")
    parser.add_argument("--worker", default="worker1", help="the Celery worker to kill")
    parser.add_argument(
        "--down", type=float, default=0, help="seconds a killed process stays down (0: 1/10 run)"
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=5,
        help="seconds after a kill in which failing requests count as in flight on it",
    )
    parser.add_argument(
        "--receiver-delay",
        type=float,
        default=0.3,
        help="seconds the webhook receiver takes to answer (a worker killed meanwhile has "
        "delivered without knowing it)",
    )
    parser.add_argument(
        "--settle", type=float, default=120, help="seconds to wait for the outbox at most"
    )
    args = parser.parse_args()

    state = load.read_state()
    if state is None or not load.answers(state["url"]):
        say(
            f"No cluster is running ({STATE_FILE.relative_to(ROOT)} missing or its /healthz "
            "does not answer): start one with `make cluster`, or run `make test-cluster`."
        )
        return 2
    missing = [n for n in (args.node, args.worker) if n not in state["processes"]]
    if missing:
        say(f"The cluster has no {', '.join(missing)}: {', '.join(state['processes'])}")
        return 2
    base = state["url"]
    db = connect(state)

    # -- before: the form's office gets a webhook to our receiver -----------------------
    recorder = load.Recorder()
    spec = load.FormSpec.fetch(load.Client(base, recorder), load.FORM_SLUG)
    offices = [
        row[0]
        for row in query(
            db,
            "SELECT DISTINCT os.office_id FROM forms_form f "
            "JOIN forms_form_services fs ON fs.form_id = f.id "
            "JOIN catalog_service_offices os ON os.service_id = fs.service_id "
            "WHERE f.slug = %s ORDER BY 1",
            (spec.slug,),
        )
    ]
    receiver = load.Receiver(delay=args.receiver_delay).start()
    destinations: dict[int, int] = {}  # destination id -> office id
    try:
        for office in offices:
            output = rathaus(state, "add-webhook", "--office", str(office), receiver.url)
            receiver.secrets.append(output.rsplit(":", 1)[-1].strip())
            (destination,) = query(
                db,
                "SELECT max(id) FROM submissions_destination WHERE office_id = %s AND url = %s",
                (office, receiver.url),
            )[0]
            destinations[destination] = office
        report = exercise(args, state, db, spec, recorder, receiver, destinations, offices)
    finally:
        # the receiver goes away with this script: its webhooks are switched off
        for destination in destinations:
            try:
                rathaus(state, "destinations", "--off", str(destination))
            except RuntimeError as exc:
                say(f"  (could not switch off webhook {destination}: {exc})")
        receiver.stop()
        db.close()
    say("")
    say("FAULT TEST PASSED" if report.passed else "FAULT TEST FAILED")
    return 0 if report.passed else 1


def exercise(
    args: argparse.Namespace,
    state: dict[str, Any],
    db: Any,
    spec: load.FormSpec,
    recorder: load.Recorder,
    receiver: load.Receiver,
    destinations: dict[int, int],
    offices: list[int],
) -> Report:
    """The load with the faults, then the checks and the report."""
    base = state["url"]
    report = Report()
    (last_submission,) = query(db, "SELECT coalesce(max(id), 0) FROM submissions_submission")[0]
    down = args.down or args.seconds / 10
    port = state["processes"][args.node].get("port")
    faults = [
        # the node dies while it answers a request (5 s later at most)
        Fault(
            args.node,
            args.seconds / 3,
            args.seconds / 3 + down,
            busy=(lambda: serving(port) > 0) if port else None,
            busy_what="it was answering a request",
        ),
        # the worker dies while a webhook is being delivered (by it or the other worker):
        # the receiver has it, the sender does not know
        Fault(
            args.worker,
            args.seconds / 2,
            args.seconds / 2 + down,
            busy=lambda: receiver.open > 0,
            busy_what="a webhook was being delivered (by it or the other worker)",
        ),
    ]
    say(
        f"Fault test against {base}: {args.citizens} citizens ("
        + (f"one in {args.api_every} through the API" if args.api_every else "no API")
        + f"), {args.staff} caseworkers, "
        f"{args.seconds:.0f} s; webhook receiver {receiver.url} for office(s) "
        f"{', '.join(map(str, offices))}"
    )
    say(
        f"  kills: {args.node} at {faults[0].kill_at:.0f} s (back at {faults[0].restart_at:.0f} s), "
        f"{args.worker} at {faults[1].kill_at:.0f} s (back at {faults[1].restart_at:.0f} s)"
    )

    # -- the load with the faults -------------------------------------------------------
    outcome = load.Outcome()
    stop = threading.Event()
    t0 = time.time()
    recorder.event("load starts", t0)
    targets: list[Any] = []
    for number in range(args.citizens):
        mode = "api" if args.api_every and number % args.api_every == args.api_every - 1 else "web"
        targets.append(
            lambda number=number, mode=mode: load.run_citizen(
                base, recorder, spec, outcome, stop, mode=mode, number=number
            )
        )
    for index in range(args.staff):
        targets.append(
            lambda index=index: load.run_staff(
                base,
                recorder,
                load.STAFF_EMAILS[index],
                outcome,
                stop,
                share=share(args.staff, index),
            )
        )
    workers = list(load.threads(targets, outcome))
    chaos = [
        threading.Thread(target=fault.run, args=(t0, stop, recorder), daemon=True)
        for fault in faults
    ]
    for thread in chaos:
        thread.start()
    while time.time() < t0 + args.seconds:
        time.sleep(min(10, t0 + args.seconds - time.time()))
        elapsed = time.time() - t0
        say(
            f"  {elapsed:5.0f} s: {len(outcome.submitted)} acknowledged, "
            f"{len(outcome.moved)} cases moved, "
            f"{sum(s.failed for s in recorder.snapshot())} failed requests"
        )
    stop.set()  # journeys under way finish (without retrying further)
    for thread in workers:
        thread.join(timeout=load.TIMEOUT + 10)
    t_end = time.time()
    recorder.event("load stops", t_end)
    for thread in chaos:
        thread.join(timeout=200)
    say(
        f"Load stopped after {t_end - t0:.0f} s; waiting for the outbox (at most {args.settle:.0f} s)"
    )

    # -- afterwards: the outbox drains ---------------------------------------------------
    submitted = list(outcome.submitted)
    references = [s.reference for s in submitted]
    open_statuses = ("pending", "queued", "in_progress")
    settle_end = time.time() + args.settle
    while True:
        left = query(
            db,
            "SELECT count(*) FROM core_outboxmessage WHERE status = ANY(%s) AND created_at <= %s",
            (list(open_statuses), datetime.fromtimestamp(t_end, tz=UTC)),
        )[0][0]
        if not left or time.time() > settle_end:
            break
        time.sleep(1)
    settled = time.time()
    say(
        f"  outbox {'drained' if not left else f'NOT drained, {left} left'} after {settled - t_end:.0f} s"
    )
    time.sleep(1)  # an answer on its way to the receiver

    # -- checks ---------------------------------------------------------------------------
    failed_journeys = list(outcome.failures)
    report.check(
        "citizen and staff journeys",
        not failed_journeys,
        f"{len(submitted)} submissions acknowledged, {len(outcome.moved)} cases moved, "
        f"{len(failed_journeys)} journeys failed, {outcome.unfinished} cut off by the end",
    )
    for at, text in failed_journeys[:10]:
        say(f"    journey failed at {stamp(at)}: {text}")
    report.check(
        "receipts fetched",
        all(s.receipt_ok for s in submitted),
        f"{sum(s.receipt_ok for s in submitted)} of {len(submitted)} receipts came as PDF",
    )
    report.check(
        "status pages",
        outcome.status_ok == outcome.status_views,
        f"{outcome.status_ok} of {outcome.status_views} showed the reference",
    )

    rows = query(
        db,
        "SELECT s.id, s.reference, s.receipt_token, s.idempotency_key, s.office_id, "
        "(SELECT count(*) FROM submissions_attachment a WHERE a.submission_id = s.id) "
        "FROM submissions_submission s WHERE s.id > %s",
        (last_submission,),
    )
    in_db = Counter(row[1] for row in rows)
    by_reference = {row[1]: row for row in rows}
    missing = [r for r in references if r not in in_db]
    twice = [r for r, n in in_db.items() if n > 1]
    report.check(
        "acknowledged submissions stored once",
        not missing and not twice and len(set(references)) == len(references),
        f"{len(references)} acknowledged, {len(missing)} missing, {len(twice)} twice",
    )
    api_keys = {s.idempotency_key: s.reference for s in submitted if s.idempotency_key}
    key_rows = Counter(row[3] for row in rows if row[3] in api_keys)
    wrong = [
        k
        for k, ref in api_keys.items()
        if key_rows[k] != 1 or ref not in by_reference or by_reference[ref][3] != k
    ]
    extra = [row[1] for row in rows if row[1] not in set(references)]
    report.check(
        "no second submission from a retry",
        not wrong and len(extra) <= outcome.unfinished + len(failed_journeys),
        f"{len(api_keys)} API submissions each once under its Idempotency-Key "
        f"({len(wrong)} not); {len(rows)} submissions made in the run, {len(extra)} of them "
        f"never acknowledged (journeys cut off or failed: "
        f"{outcome.unfinished + len(failed_journeys)})",
    )

    expected_files = len(load.UPLOADS)
    few = [r for r in references if r in by_reference and by_reference[r][5] != expected_files]
    report.check(
        "attachments stored",
        not few,
        f"{expected_files} per submission expected; {len(few)} submissions with another count",
    )
    names, why_not = storage_names(state)
    tokens = query(
        db,
        "SELECT s.reference, a.token FROM submissions_attachment a "
        "JOIN submissions_submission s ON s.id = a.submission_id WHERE s.id > %s",
        (last_submission,),
    )
    acknowledged = set(references)
    our_tokens = [(ref, token) for ref, token in tokens if ref in acknowledged]
    if names is None:
        report.check("attachment files in object storage", False, why_not)
        report.check("receipts in object storage", False, why_not)
    else:
        lost = [ref for ref, token in our_tokens if token not in names]
        report.check(
            "attachment files in object storage",
            not lost,
            f"{len(our_tokens) - len(lost)} of {len(our_tokens)} found in the bucket",
        )
        without = [r for r in references if r in by_reference and not by_reference[r][2]]
        not_kept = [
            r
            for r in references
            if r in by_reference and by_reference[r][2] and by_reference[r][2] not in names
        ]
        report.check(
            "receipts in object storage",
            not without and not not_kept,
            f"{len(references) - len(without) - len(not_kept)} of {len(references)} kept "
            f"({len(without)} without receipt, {len(not_kept)} not in the bucket)",
        )

    opened = dict(
        query(
            db,
            "SELECT reference, status FROM cases_case WHERE reference = ANY(%s)",
            (references,),
        )
    )
    wrong_status = [m.reference for m in outcome.moved if opened.get(m.reference) != m.to]
    report.check(
        "cases opened and moved",
        len(opened) == len(references) and not wrong_status,
        f"{len(opened)} of {len(references)} acknowledged submissions have a case; "
        f"{len(outcome.moved) - len(wrong_status)} of {len(outcome.moved)} moved cases "
        "are in their new status",
    )

    outbox = query(
        db,
        "SELECT topic, status, count(*), max(attempts) FROM core_outboxmessage "
        "WHERE created_at >= %s GROUP BY topic, status ORDER BY topic, status",
        (datetime.fromtimestamp(t0, tz=UTC),),
    )
    undelivered = query(
        db,
        "SELECT status, count(*) FROM core_outboxmessage WHERE status <> 'delivered' "
        "AND created_at <= %s GROUP BY status",
        (datetime.fromtimestamp(t_end, tz=UTC),),
    )
    report.check(
        "outbox delivered",
        not undelivered,
        f"{sum(r[2] for r in outbox)} messages since the start, "
        + (
            ", ".join(f"{n} {status}" for status, n in undelivered)
            if undelivered
            else "all delivered"
        ),
    )
    expected_keys = {
        f"webhook:{destination}:{row[1]}"
        for row in rows
        for destination, office in destinations.items()
        if row[4] == office
    }
    seen = receiver.counts()
    not_seen = expected_keys - set(seen)
    unexpected = set(seen) - expected_keys
    repeats = sum(n - 1 for n in seen.values())
    report.check(
        "webhooks exactly once (after de-duplication)",
        not not_seen and not unexpected and not receiver.bad,
        f"{len(expected_keys)} expected, {len(set(seen) & expected_keys)} received, "
        f"{len(not_seen)} missing, {len(unexpected)} unexpected, {repeats} repeats "
        f"de-duplicated, {len(receiver.bad)} refused (signature)",
    )
    for problem in receiver.bad[:5]:
        say(f"    webhook refused: {problem}")

    samples = recorder.snapshot()
    kills = [f.killed for f in faults if f.name == args.node and f.killed]
    in_flight, other = [], []
    for sample in (s for s in samples if s.failed):
        if any(
            sample.started <= after and before <= sample.ended <= after + args.grace
            for before, after in kills
        ):
            in_flight.append(sample)
        else:
            other.append(sample)
    report.check(
        "5xx only in flight on the killed node",
        not other,
        f"{len(in_flight)} in flight on {args.node} at its kill, {len(other)} other",
    )
    for label, group in (("in flight", in_flight), ("unexpected", other)):
        for sample in group[:10]:
            say(
                f"    {label}: {stamp(sample.started)}-{stamp(sample.ended)} {sample.method} "
                f"{sample.path} -> {sample.status or sample.error}"
            )
    for fault in faults:
        report.check(
            f"{fault.name} killed and restarted",
            bool(fault.killed and fault.restarted and not fault.problem),
            fault.problem or "as planned",
        )

    # -- the report --------------------------------------------------------------------------
    say("")
    say("Requests by kind (through nginx)")
    say(f"  {'kind':<13}{'count':>7}{'failed':>8}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for kind, entry in sorted(recorder.by_kind(samples).items()):
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(entry["statuses"].items()))
        say(
            f"  {kind:<13}{entry['count']:>7}{entry['failed']:>8}{entry['p50_ms']:>9.0f}"
            f"{entry['p99_ms']:>9.0f}  {statuses}"
        )
    say("Errors (5xx or no answer)")
    for label, group in (("in flight on the killed node", in_flight), ("other", other)):
        kinds = Counter(f"{s.status or 'no answer'}" for s in group)
        detail = ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items())) or "-"
        say(f"  {label:<30}{len(group):>5}  {detail}")
    say("Faults (UTC)")
    for fault in faults:
        killed = stamp(fault.killed[0]) if fault.killed else "-"
        back = stamp(fault.restarted[1]) if fault.restarted else "-"
        busy = {
            True: f"  (killed while {fault.busy_what})",
            False: "  (killed idle: nothing in flight within 5 s)",
            None: "",
        }[fault.busy_at_kill]
        say(f"  {fault.name:<9} killed {killed}  running again {back}{busy}")
    say("Outbox messages made during the run (topic, status, count, most attempts)")
    for topic, status, count, attempts in outbox:
        say(f"  {topic:<32}{status:<12}{count:>6}{attempts:>4}")
    modes = Counter(s.mode for s in submitted)
    say(
        f"Acknowledged submissions: {len(submitted)} (web form {modes['web']}, API "
        f"{modes['api']}); cases moved: {len(outcome.moved)}; status pages: {outcome.status_views}"
    )
    say(f"Webhook receiver: {sum(seen.values())} requests, {len(seen)} keys, {repeats} repeats")
    say("")
    say("Checks")
    for name, detail, ok in report.lines:
        say(f"  {'ok  ' if ok else 'FAIL'}  {name}: {detail}")
    return report


if __name__ == "__main__":
    sys.exit(main())
