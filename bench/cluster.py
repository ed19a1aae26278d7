"""`make bench-cluster` (issue 13): the local cluster (scripts/cluster.py) through nginx with
PostgreSQL, Redis, Celery and S3 storage, with one app node and with two.

For each: complete submissions per second with their p50/p99 (the Bewohnerparkausweis with
two attachments, a PDF and a PNG, and its receipt PDF), once as a browser fills in the web
form (every page, the uploads, the summary, the submit, the confirmation and the receipt) and
once through the JSON API (one multipart request, then the receipt); and status page views per
second. The machine's cores are shared by everything (nginx, both nodes, PostgreSQL, Redis, the
workers, moto and this load generator), so the figure that carries over to other machines is
throughput per CPU-second used by the app nodes' gunicorn processes (master and workers, from
/proc/<pid>/stat: utime + stime, and cutime + cstime for children that ended): the sizing in
docs/operations.md is derived from it. The CPU of the other processes and of the load
generator is reported alongside, and the CPU-milliseconds per submission or page view of
each kind of process (less what the idle cluster uses), for sizing workers and PostgreSQL.

One node and two take turns in rounds (3 by default), as bench/submissions.py does, so that a
slow spell of this shared machine hits both alike; each figure adds up its rounds.

    .venv/bin/python bench/cluster.py [--seconds 30] [--rounds 3] [--concurrency 8]

Starts the cluster (2 nodes) unless one is running, and stops it afterwards only if it started
it; writes the figures to var/bench-cluster.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import clusterload as load  # noqa: E402 - scripts/ is not a package on sys.path

CLUSTER_DIR, STATE_FILE = load.CLUSTER_DIR, load.STATE_FILE
CLUSTER = [sys.executable, str(ROOT / "scripts" / "cluster.py")]
RESULTS = ROOT / "var" / "bench-cluster.json"
TICKS = os.sysconf("SC_CLK_TCK")


def say(text: str) -> None:
    print(text, flush=True)


# -- the cluster ---------------------------------------------------------------------------


def cluster(*args: str, show: bool = False) -> None:
    """``scripts/cluster.py ARGS``; its output shown with ``show``, else only on failure."""
    if show:
        if subprocess.run([*CLUSTER, *args], check=False).returncode:
            raise RuntimeError(f"cluster.py {' '.join(args)} failed (see above)")
        return
    done = subprocess.run([*CLUSTER, *args], capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"cluster.py {' '.join(args)}: {(done.stdout + done.stderr)[-800:]}")


# -- CPU accounting ------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, CPU ticks: utime + stime + cutime + cstime) of a process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[1]), sum(int(fields[i]) for i in (11, 12, 13, 14))


def cpu_snapshot(state: dict[str, Any]) -> dict[str, dict[int, int]]:
    """CPU ticks of each process the cluster started and all its descendants, by pid, by
    the process's name (one pass over /proc)."""
    stats: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = found
    children: dict[int, list[int]] = {}
    for pid, (parent, _ticks) in stats.items():
        children.setdefault(parent, []).append(pid)
    trees: dict[str, dict[int, int]] = {}
    for name, proc in state["processes"].items():
        tree = trees[name] = {}
        todo = [proc["pid"]] if proc["pid"] in stats else []
        while todo:
            pid = todo.pop()
            tree[pid] = stats[pid][1]
            todo += children.get(pid, [])
    return trees


def cpu_seconds(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU used between two snapshots of one tree. A process that ended meanwhile is counted
    by its parent (cutime/cstime: its whole life), so what it had used before is taken off;
    one that started counts from zero."""
    ended = sum(ticks for pid, ticks in before.items() if pid not in after)
    return (sum(ticks - before.get(pid, 0) for pid, ticks in after.items()) - ended) / TICKS


def machine_busy() -> float:
    """CPU-seconds the whole machine has spent busy since boot (every core, /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- one measurement -----------------------------------------------------------------------


def by_kind(state: dict[str, Any], cpu: dict[str, float]) -> dict[str, float]:
    """CPU-seconds summed by kind of process: node, worker (Celery workers and beat),
    postgres, redis, s3, nginx."""
    kinds: dict[str, float] = {}
    for name, proc in state["processes"].items():
        kind = {"beat": "worker"}.get(proc.get("kind", name), proc.get("kind", name))
        kinds[kind] = kinds.get(kind, 0.0) + cpu.get(name, 0.0)
    return kinds


def idle_cpu(state: dict[str, Any], seconds: float) -> dict[str, float]:
    """CPU-seconds per second each kind of process uses with no load (polling, beat)."""
    before = cpu_snapshot(state)
    time.sleep(seconds)
    after = cpu_snapshot(state)
    cpu = {name: cpu_seconds(before[name], after[name]) for name in after}
    rates = {kind: value / seconds for kind, value in by_kind(state, cpu).items()}
    say(
        "idle cluster, CPU-seconds per second: "
        + ", ".join(f"{kind} {value:.3f}" for kind, value in sorted(rates.items()))
    )
    return rates


# -- measuring -----------------------------------------------------------------------------


@dataclass
class Window:
    """One measured stretch of one kind of load: what was done in it and what it cost."""

    seconds: float
    done: int
    cpu: dict[str, float]  # CPU-seconds by process name
    own: float  # the load generator's CPU-seconds
    machine: float  # the whole machine's busy CPU-seconds
    samples: list[load.Sample]
    lengths: list[float]  # ms of each unit done (a submission's whole journey)
    failures: list[str]


Load = Callable[[threading.Event, load.Recorder, load.Outcome], list[Callable[[], None]]]


def measure(
    state: dict[str, Any],
    seconds: float,
    warm_up: float,
    make: Load,
    done: Callable[[float, float, load.Recorder], list[float]],
) -> Window:
    """Run the load ``make`` builds, warm up, then measure for ``seconds``: the units done
    (``done`` gives the length of each that ended in the window) and the CPU every process
    of the cluster, the load generator and the machine used meanwhile."""
    recorder = load.Recorder()
    stop = threading.Event()
    outcome = load.Outcome()
    running = list(load.threads(make(stop, recorder, outcome), outcome))
    time.sleep(warm_up)
    cpu_before, own_before, busy_before = cpu_snapshot(state), own_cpu(), machine_busy()
    start = time.time()
    time.sleep(seconds)
    cpu_after, own_after, busy_after = cpu_snapshot(state), own_cpu(), machine_busy()
    end = time.time()
    stop.set()
    for thread in running:
        thread.join(timeout=load.TIMEOUT + 10)
    lengths = done(start, end, recorder)
    return Window(
        seconds=end - start,
        done=len(lengths),
        cpu={name: cpu_seconds(cpu_before[name], cpu_after[name]) for name in cpu_after},
        own=own_after - own_before,
        machine=busy_after - busy_before,
        samples=[s for s in recorder.snapshot() if start <= s.ended <= end],
        lengths=lengths,
        failures=[text for _at, text in outcome.failures],
    )


def submission_load(state: dict[str, Any], spec: load.FormSpec, mode: str, args: Any) -> Any:
    """(load, done) of citizens submitting one application after another (``made`` keeps
    the submissions, for the status pages)."""
    journeys: list[load.Submitted] = []
    lock = threading.Lock()

    def citizen(
        number: int, stop: threading.Event, recorder: load.Recorder, outcome: load.Outcome
    ) -> None:
        person = load.Citizen(
            state["url"], recorder, spec, stop=stop, mode=mode, number=number * 100000
        )
        while not stop.is_set():
            try:
                submitted = person.submit()
            except load.Stopped:
                return
            except load.Failed as exc:
                outcome.add_failure(str(exc))
                continue
            if not submitted.receipt_ok:
                outcome.add_failure(f"{submitted.reference}: the receipt is not a PDF")
            with lock:
                journeys.append(submitted)

    def make(
        stop: threading.Event, recorder: load.Recorder, outcome: load.Outcome
    ) -> list[Callable[[], None]]:
        return [partial(citizen, n, stop, recorder, outcome) for n in range(args.concurrency)]

    def done(start: float, end: float, recorder: load.Recorder) -> list[float]:
        return [
            (j.ended - j.started) * 1000
            for j in journeys
            if start <= j.ended <= end and j.receipt_ok
        ]

    return make, done, journeys


def status_load(state: dict[str, Any], made: list[load.Submitted], args: Any) -> Any:
    """(load, done) of people looking at the status pages of the submissions ``made``."""

    def viewer(
        number: int, stop: threading.Event, recorder: load.Recorder, outcome: load.Outcome
    ) -> None:
        client = load.Client(state["url"], recorder, stop=stop)
        index = number
        while not stop.is_set():
            index += args.concurrency
            try:
                if not load.view_status(client, made[index % len(made)]):
                    outcome.add_failure("a status page without its reference")
            except load.Stopped:
                return
            except load.Failed as exc:
                outcome.add_failure(str(exc))

    def make(
        stop: threading.Event, recorder: load.Recorder, outcome: load.Outcome
    ) -> list[Callable[[], None]]:
        return [partial(viewer, n, stop, recorder, outcome) for n in range(args.concurrency)]

    def done(start: float, end: float, recorder: load.Recorder) -> list[float]:
        return [
            s.seconds * 1000
            for s in recorder.snapshot()
            if s.kind == "status" and s.status == 200 and start <= s.ended <= end
        ]

    return make, done


def figure(state: dict[str, Any], windows: list[Window], idle: dict[str, float]) -> dict[str, Any]:
    """The figures of the windows of one kind of load taken together."""
    seconds = sum(w.seconds for w in windows)
    done = sum(w.done for w in windows)
    cpu = {name: sum(w.cpu.get(name, 0.0) for w in windows) for name in state["processes"]}
    kinds = by_kind(state, cpu)
    app = kinds.get("node", 0.0)
    lengths = [length for w in windows for length in w.lengths]
    samples = [s for w in windows for s in w.samples]
    recorder = load.Recorder()
    for sample in samples:
        recorder.add(sample)
    requests_by_kind = {
        kind: {
            **{k: v for k, v in entry.items() if k != "statuses"},
            "statuses": dict(entry["statuses"]),
        }
        for kind, entry in recorder.by_kind().items()
    }
    machine_seconds = sum(w.machine for w in windows)
    own = sum(w.own for w in windows)
    return {
        "seconds": round(seconds, 2),
        "rounds": len(windows),
        "done": done,
        "per_second": done / seconds,
        "p50_ms": load.percentile(lengths, 50),
        "p99_ms": load.percentile(lengths, 99),
        "app_cpu_seconds": round(app, 2),
        "per_app_cpu_second": done / app if app else 0.0,
        "app_cores_busy": app / seconds,
        "cpu_seconds": {name: round(value, 2) for name, value in cpu.items()},
        "cpu_seconds_by_kind": {kind: round(value, 2) for kind, value in kinds.items()},
        "cpu_ms_per_unit_less_idle": {
            kind: round(max(value - idle.get(kind, 0.0) * seconds, 0.0) * 1000 / max(done, 1), 1)
            for kind, value in kinds.items()
        },
        "load_generator_cpu_seconds": round(own, 2),
        "machine_cpu_seconds": round(machine_seconds, 2),
        "outside_cpu_seconds": round(machine_seconds - sum(cpu.values()) - own, 2),
        "requests": requests_by_kind,
        "requests_per_unit": len(samples) / max(done, 1),
        "failed_requests": sum(s.failed for s in samples),
        "failed": [text for w in windows for text in w.failures][:20],
    }


def progress(label: str, nodes: int, window: Window, state: dict[str, Any]) -> None:
    app = sum(window.cpu[name] for name in state["nodes"])
    outside = window.machine - sum(window.cpu.values()) - window.own
    say(
        f"  {nodes} node{'s' if nodes > 1 else ' '} {label:<24}{window.done:>6} in "
        f"{window.seconds:4.1f} s = {window.done / window.seconds:7.2f}/s, app "
        f"{app:5.1f} CPU-s = {window.done / app if app else 0:7.2f} per CPU-s; machine "
        f"{window.machine:5.1f} CPU-s ({max(outside, 0):4.1f} outside the cluster)"
        + (f"; {len(window.failures)} FAILED" if window.failures else "")
    )
    for text in window.failures[:3]:
        say(f"    failed: {text}")


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument(
        "--seconds", type=float, default=30, help="measured seconds per figure (all rounds)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="1 and 2 nodes take turns this many times"
    )
    parser.add_argument("--warm-up", type=float, default=3, help="unmeasured seconds per window")
    parser.add_argument("--concurrency", type=int, default=8, help="load generator threads")
    parser.add_argument(
        "--idle", type=float, default=5, help="seconds the idle cluster's CPU is measured"
    )
    parser.add_argument("--modes", default="web,api", help="submission modes: web, api")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    per_window = args.seconds / args.rounds

    state = load.read_state()
    started_here = False
    if state is None or not load.answers(state["url"]):
        say("starting the cluster (scripts/cluster.py start --nodes 2) ...")
        try:
            cluster("start", "--nodes", "2", show=True)
        except RuntimeError:
            cluster("stop", show=True)  # what did start ends again
            raise
        started_here = True
        state = load.read_state()
        assert state is not None
    else:
        say(f"using the running cluster at {state['url']} (nodes: {', '.join(state['nodes'])})")
    node_counts = [n for n in (1, 2) if n <= len(state["nodes"])]
    say(
        f"{args.rounds} rounds, in each {' and '.join(map(str, node_counts))} node(s) take turns "
        f"(so that a slow spell of this shared machine hits both alike): "
        f"{per_window:.0f} s per figure and round after {args.warm_up:.0f} s warm-up, "
        f"{args.concurrency} client threads"
    )
    windows: dict[tuple[int, str], list[Window]] = {}
    try:
        spec = load.FormSpec.fetch(load.Client(state["url"], load.Recorder()), load.FORM_SLUG)
        idle = idle_cpu(state, args.idle)
        made: list[load.Submitted] = []
        for number in range(args.rounds):
            order = node_counts if number % 2 == 0 else node_counts[::-1]
            for nodes in order:
                cluster("nodes", str(nodes))
                state = load.read_state() or state
                for mode in modes:
                    make, done, journeys = submission_load(state, spec, mode, args)
                    window = measure(state, per_window, args.warm_up, make, done)
                    windows.setdefault((nodes, f"submissions_{mode}"), []).append(window)
                    made += [j for j in journeys if j.receipt_ok]
                    progress(NAMES[f"submissions_{mode}"], nodes, window, state)
                if made:
                    make, done = status_load(state, made, args)
                    window = measure(state, per_window, args.warm_up, make, done)
                    windows.setdefault((nodes, "status_pages"), []).append(window)
                    progress(NAMES["status_pages"], nodes, window, state)
    finally:
        if started_here:
            say("stopping the cluster this benchmark started ...")
            cluster("stop", show=True)
        elif len(state["nodes"]) > 1:
            cluster("nodes", str(len(state["nodes"])))  # as it was: every node
    results: dict[str, Any] = {
        "machine": machine(),
        "cluster": {"url": state["url"], "nodes": state["nodes"]},
        "settings": vars(args),
        "idle_cpu_per_second": {kind: round(rate, 4) for kind, rate in idle.items()},
        "runs": {
            str(nodes): {
                key: figure(state, found, idle)
                for key in NAMES
                if (found := windows.get((nodes, key)))
            }
            for nodes in node_counts
        },
    }
    summary(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    say(f"figures written to {RESULTS.relative_to(ROOT)}")
    failed = [
        f"{nodes} node(s), {NAMES[key]}"
        for nodes, key, found in figures(results)
        if found["failed_requests"] or found["failed"]
    ]
    if failed:
        say(f"WARNING: requests or journeys failed during: {'; '.join(failed)}")
        return 1
    return 0


NAMES = {
    "submissions_web": "submissions (web form)",
    "submissions_api": "submissions (API)",
    "status_pages": "status page views",
}
KINDS = ("node", "worker", "postgres", "s3", "redis", "nginx")


def figures(results: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(node count, figure key, figure) of every measured figure."""
    return [
        (nodes, key, figure)
        for nodes, run in results["runs"].items()
        for key, figure in run.items()
        if key in NAMES
    ]


def summary(results: dict[str, Any]) -> None:
    runs = results["runs"]
    m = results["machine"]
    say("")
    say(
        f"Cluster benchmark through nginx ({m['cpus']} CPUs: {m['cpu_model']}; "
        f"{results['settings']['concurrency']} client threads, "
        f"{results['settings']['seconds']:.0f} s per figure in {results['settings']['rounds']} "
        "rounds)"
    )
    say(
        f"  {'figure':<24}{'nodes':>6}{'per s':>8}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'app CPU-s':>10}{'per CPU-s':>10}{'workers':>8}{'pg':>6}{'client':>7}{'machine':>8}"
    )
    for nodes, key, found in figures(results):
        p50, p99 = found["p50_ms"], found["p99_ms"]
        kinds = found["cpu_seconds_by_kind"]
        say(
            f"  {NAMES[key]:<24}{nodes:>6}{found['per_second']:>8.2f}{p50:>8.0f}{p99:>8.0f}"
            f"{found['app_cpu_seconds']:>10.1f}{found['per_app_cpu_second']:>10.2f}"
            f"{kinds.get('worker', 0.0):>8.1f}{kinds.get('postgres', 0.0):>6.1f}"
            f"{found['load_generator_cpu_seconds']:>7.1f}{found['machine_cpu_seconds']:>8.1f}"
        )
    say(
        "  p50/p99 of a submission: the whole journey, first page (or API request) to receipt; "
        "CPU in CPU-seconds over the measured window: app = the gunicorn nodes, workers = "
        "Celery workers and beat, pg = PostgreSQL, client = this load generator, machine = "
        "every process on the machine"
    )
    say("CPU per submission or page view, in CPU-milliseconds (less the idle cluster's)")
    say(f"  {'figure':<24}{'nodes':>6}" + "".join(f"{kind:>10}" for kind in KINDS))
    for nodes, key, found in figures(results):
        per_unit = found["cpu_ms_per_unit_less_idle"]
        say(
            f"  {NAMES[key]:<24}{nodes:>6}"
            + "".join(f"{per_unit.get(kind, 0.0):>10.1f}" for kind in KINDS)
        )
    if "1" in runs and "2" in runs:
        for key in NAMES:
            one, two = runs["1"].get(key), runs["2"].get(key)
            if one and two:
                say(
                    f"{NAMES[key]}: 2 nodes {two['per_second']:.2f}/s, "
                    f"{two['per_app_cpu_second']:.2f} per app CPU-second | baseline 1 node "
                    f"{one['per_second']:.2f}/s, {one['per_app_cpu_second']:.2f} per app "
                    f"CPU-second | ratio {two['per_second'] / max(one['per_second'], 1e-9):.2f} "
                    f"(the cores are shared: the per-CPU-second figure is the one to size by)"
                )


if __name__ == "__main__":
    sys.exit(main())
