#!/usr/bin/env python3
"""A Rathaus cluster on loopback, for the fault test, the cluster benchmark and trying things out.

    .venv/bin/python scripts/cluster.py start [--nodes 2] [--workers 2] [--node-workers 2]
    .venv/bin/python scripts/cluster.py stop | status | env
    .venv/bin/python scripts/cluster.py kill NAME | restart NAME | nodes N

`start` runs, all on 127.0.0.1 and each in its own process group: a fresh PostgreSQL instance
(initdb into var/cluster/pgdata), Redis without persistence, moto's S3 server with the bucket,
the demo city (migrate + seed-demo), gunicorn nodes, Celery workers, one Celery beat per node
and nginx in front of the nodes. Everything it started is written to var/cluster/state.json;
`stop` ends exactly those processes and nothing else (the machine's own PostgreSQL and Redis are
never touched). Logs: var/cluster/logs/NAME.log.

Ports (each may be set in the environment; RATHAUS_CLUSTER_PORT_OFFSET shifts all defaults):
RATHAUS_CLUSTER_HTTP_PORT 8088 (nginx), RATHAUS_CLUSTER_NODE_PORT 8101 (node1; node2 8102 ...),
RATHAUS_CLUSTER_PG_PORT 55432, RATHAUS_CLUSTER_REDIS_PORT 56379, RATHAUS_CLUSTER_S3_PORT 59000.
RATHAUS_CLUSTER_DIR moves var/cluster elsewhere (two clusters side by side).

Standard library only, apart from boto3 (the venv's) to create the bucket.
"""

# ruff: noqa: S603, S607 - this script's job is starting the programs named in it
from __future__ import annotations

import argparse
import fcntl
import glob
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CLUSTER_DIR = Path(os.environ.get("RATHAUS_CLUSTER_DIR") or ROOT / "var" / "cluster").resolve()
STATE_FILE = CLUSTER_DIR / "state.json"
LOG_DIR = CLUSTER_DIR / "logs"
HOST = "127.0.0.1"
BUCKET = "rathaus"
S3_KEY, S3_SECRET, S3_REGION = "rathaus-cluster", "rathaus-cluster-secret", "eu-central-1"
# High enough that the load tests, which all come from 127.0.0.1, never meet a limit.
HIGH_RATE = "100000/m"
STOP_TIMEOUT = 15.0  # seconds between SIGTERM and SIGKILL (gunicorn's graceful timeout is 10)
# Variables of the app's configuration that the caller's shell must not leak into the cluster:
# the cluster's configuration is what state.json says (plus `start --set NAME=VALUE`).
APP_PREFIXES = ("RATHAUS_", "CELERY_", "DATABASE_")
APP_NAMES = {"EMAIL_URL", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}


class ClusterError(Exception):
    pass


# ---- configuration -----------------------------------------------------------------------


def _port(name: str, default: int) -> int:
    value = os.environ.get(f"RATHAUS_CLUSTER_{name}_PORT")
    if value:
        return int(value)
    return default + int(os.environ.get("RATHAUS_CLUSTER_PORT_OFFSET") or 0)


PORTS = {
    "http": _port("HTTP", 8088),
    "node": _port("NODE", 8101),
    "postgres": _port("PG", 55432),
    "redis": _port("REDIS", 56379),
    "s3": _port("S3", 59000),
}


def _rate_limit_names() -> list[str]:
    """Every RATHAUS_RATELIMIT_* settings.py reads, so a new limit is raised here too."""
    text = (ROOT / "src" / "rathaus" / "settings.py").read_text()
    return sorted(set(re.findall(r"\b(RATHAUS_RATELIMIT_[A-Z0-9_]+)\b", text)))


def app_env(*, extra: dict[str, str]) -> dict[str, str]:
    url = f"http://{HOST}:{PORTS['http']}"
    redis = f"redis://{HOST}:{PORTS['redis']}"
    env = {
        "DATABASE_URL": f"postgres://postgres@{HOST}:{PORTS['postgres']}/rathaus",
        "RATHAUS_DB_POOL_MAX": "4",
        "RATHAUS_SECRET_KEY": secrets.token_urlsafe(50),
        "RATHAUS_DATA_KEYS": secrets.token_urlsafe(32),
        "RATHAUS_CACHE_URL": f"{redis}/1",
        "CELERY_BROKER_URL": f"{redis}/0",
        "RATHAUS_STORAGE_BACKEND": "s3",
        "RATHAUS_STORAGE_BUCKET": BUCKET,
        "RATHAUS_STORAGE_ENDPOINT_URL": f"http://{HOST}:{PORTS['s3']}",
        "RATHAUS_STORAGE_ACCESS_KEY": S3_KEY,
        "RATHAUS_STORAGE_SECRET_KEY": S3_SECRET,
        "RATHAUS_STORAGE_REGION": S3_REGION,
        "RATHAUS_PROXY_COUNT": "1",
        "RATHAUS_DEMO": "1",
        "RATHAUS_DEBUG": "0",
        "RATHAUS_INPROCESS_WORKER": "0",
        "RATHAUS_SITE_URL": url,
        # short, so that the fault test sees lost work come back within its run
        "RATHAUS_OUTBOX_LEASE_SECONDS": "20",
        "RATHAUS_OUTBOX_QUEUE_SECONDS": "30",
        "RATHAUS_CELERY_VISIBILITY_TIMEOUT": "60",
        "RATHAUS_BEAT_LOCK_SECONDS": "10",
        "RATHAUS_LOGIN_FAILURE_LIMIT": "100000",
        "EMAIL_URL": f"file://{CLUSTER_DIR / 'mail'}",
    }
    env.update({name: HIGH_RATE for name in _rate_limit_names()})
    env.update(extra)
    return env


def base_env() -> dict[str, str]:
    """The caller's environment without any of the app's settings."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(APP_PREFIXES) and key not in APP_NAMES
    }


# ---- console -------------------------------------------------------------------------------


@contextmanager
def step(text: str) -> Iterator[None]:
    print(f"{text} ... ", end="", flush=True)
    started = time.monotonic()
    try:
        yield
    except BaseException as exc:
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        print(f"{reason} ({time.monotonic() - started:.1f} s)", flush=True)
        raise
    print(f"ok ({time.monotonic() - started:.1f} s)", flush=True)


def tail(path: str | Path, lines: int = 25) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def rel(path: str | Path) -> str:
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# ---- processes ---------------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/PID/stat fields after the command name: [state, ppid, pgrp, ...]."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def start_time(pid: int) -> int | None:
    fields = _proc_stat(pid)
    return int(fields[19]) if fields else None


def alive(proc: dict[str, Any]) -> bool:
    """The recorded process itself still runs (not a later process that got its pid)."""
    fields = _proc_stat(proc["pid"])
    return fields is not None and fields[0] != "Z" and int(fields[19]) == proc.get("start_time")


def group_members(proc: dict[str, Any]) -> list[int]:
    """The living processes of the recorded process group and their descendants (the leader may
    be gone already). PostgreSQL's backends each lead a group of their own: they are found as
    the postmaster's children."""
    pgid, since = proc["pid"], proc.get("start_time") or 0
    table = {}
    for entry in glob.glob("/proc/[0-9]*/stat"):
        pid = int(entry.split("/")[2])
        fields = _proc_stat(pid)
        if fields and fields[0] != "Z" and int(fields[19]) >= since:
            table[pid] = (int(fields[1]), int(fields[2]))  # ppid, pgrp
    members = {pid for pid, (_, pgrp) in table.items() if pgrp == pgid}
    while True:
        children = {pid for pid, (ppid, _) in table.items() if ppid in members} - members
        if not children:
            return sorted(members)
        members |= children


def signal_group(proc: dict[str, Any], sig: int) -> int:
    members = group_members(proc)
    for pid in members:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return len(members)


def wait_group_gone(proc: dict[str, Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while group_members(proc):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def spawn(name: str, cmd: list[str], env: dict[str, str], extra: dict[str, str]) -> int:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    cwd = Path(extra.get("RATHAUS_VAR_DIR") or CLUSTER_DIR)
    cwd.mkdir(parents=True, exist_ok=True)
    if extra.get("PROMETHEUS_MULTIPROC_DIR"):  # empty at every start, as prometheus_client asks
        metrics = Path(extra["PROMETHEUS_MULTIPROC_DIR"])
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
    with open(LOG_DIR / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            cmd,
            env={**base_env(), **env, **extra},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def http_status(url: str, timeout: float = 3.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http://127.0.0.1
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (OSError, ValueError):
        return None


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_until(check: Callable[[], bool], proc: dict[str, Any], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if not alive(proc):
            raise ClusterError(
                f"{what} exited; last lines of {rel(proc['log'])}:\n{tail(proc['log'])}"
            )
        if time.monotonic() > deadline:
            raise ClusterError(
                f"{what} not ready after {timeout:.0f} s; last lines of {rel(proc['log'])}:\n"
                f"{tail(proc['log'])}"
            )
        time.sleep(0.1)


def log_says(path: str, offset: int, marker: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                return marker.encode() in fh.read()
        except OSError:
            return False

    return check


def wait_ready(name: str, proc: dict[str, Any], log_offset: int) -> None:
    """Until the process does its job: answers on its port, or says so in its log."""
    kind = proc["kind"]
    if kind == "node":
        url = f"http://{HOST}:{proc['port']}/healthz"
        wait_until(lambda: http_status(url) == 200, proc, name, 90)
    elif kind == "nginx":
        url = f"http://{HOST}:{proc['port']}/healthz"
        wait_until(lambda: http_status(url) == 200, proc, name, 30)
    elif kind == "redis":
        wait_until(lambda: redis_ping(proc["port"]), proc, name, 20)
    elif kind == "s3":
        url = f"http://{HOST}:{proc['port']}/"
        wait_until(lambda: http_status(url) is not None, proc, name, 30)
    elif kind == "worker":
        wait_until(log_says(proc["log"], log_offset, " ready."), proc, name, 90)
    elif kind == "beat":
        wait_until(log_says(proc["log"], log_offset, "beat: Starting"), proc, name, 60)
        # a broken schedule or scheduler shows within the first second
        time.sleep(1.0)
        if not alive(proc):
            raise ClusterError(
                f"{name} exited; last lines of {rel(proc['log'])}:\n{tail(proc['log'])}"
            )


# ---- state ---------------------------------------------------------------------------------


def load_state() -> dict[str, Any] | None:
    try:
        return json.loads(STATE_FILE.read_text())  # type: ignore[no-any-return]
    except FileNotFoundError:
        return None


def save_state(state: dict[str, Any]) -> None:
    CLUSTER_DIR.mkdir(parents=True, exist_ok=True)
    tmp = STATE_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(STATE_FILE)


@contextmanager
def locked() -> Iterator[None]:
    """One cluster.py at a time changes the cluster (a `stop` during a `start` waits)."""
    CLUSTER_DIR.mkdir(parents=True, exist_ok=True)
    with open(CLUSTER_DIR / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def running(state: dict[str, Any]) -> list[str]:
    return [name for name, proc in state["processes"].items() if alive(proc)]


# ---- PostgreSQL ------------------------------------------------------------------------------


def pg_bin() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(path.split("/")[4]) if path.split("/")[4].isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise ClusterError("PostgreSQL's initdb is missing: sudo apt-get install postgresql")


def as_postgres(cmd: list[str], state: dict[str, Any]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the postgres user then."""
    if not state["postgres_user"]:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]


def pg_dirs(as_root: bool) -> tuple[Path, Path]:
    """The data and socket directories, which the postgres user must reach when we are root."""
    data, sockets = CLUSTER_DIR / "pgdata", CLUSTER_DIR / "pgsock"
    if as_root:
        reachable = subprocess.run(
            ["runuser", "-u", "postgres", "--", "test", "-x", str(CLUSTER_DIR)],
            capture_output=True,
            check=False,
        )
        if reachable.returncode != 0:
            # a project directory closed to other users: PostgreSQL's files go to /tmp instead
            base = Path(tempfile.mkdtemp(prefix="rathaus-cluster-pg-"))
            base.chmod(0o755)
            data, sockets = base / "pgdata", base / "pgsock"
    return data, sockets


def pg_run(cmd: list[str], state: dict[str, Any], what: str) -> None:
    result = subprocess.run(as_postgres(cmd, state), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ClusterError(f"{what} failed:\n{result.stdout}{result.stderr}")


def postgres_start(state: dict[str, Any]) -> dict[str, Any]:
    proc: dict[str, Any] = state["processes"]["postgres"]
    locks = [Path(state["pgdata"]) / "postmaster.pid"]
    locks += Path(state["pgsock"]).glob(".s.PGSQL.*.lock")
    for lock in locks:
        # A killed postmaster stays a zombie until init reaps it, and PostgreSQL takes a zombie
        # for a running server. Its backends are gone (kill and stop wait for them).
        try:
            fields = _proc_stat(int(lock.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            continue
        if fields is None or fields[0] == "Z":
            lock.unlink()
    pg_run(proc["cmd"], state, "pg_ctl start")
    pid = int((Path(state["pgdata"]) / "postmaster.pid").read_text().split()[0])
    proc.update(pid=pid, start_time=start_time(pid))
    return proc


def postgres_setup(state: dict[str, Any]) -> None:
    as_root = os.geteuid() == 0
    bindir = pg_bin()
    data, sockets = pg_dirs(as_root)
    for path in (data, sockets):
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
    log = LOG_DIR / "postgres.log" if data.parent == CLUSTER_DIR else data.parent / "postgres.log"
    log.touch()
    if as_root:
        for path in (data, sockets, log):
            shutil.chown(path, "postgres", "postgres")
    data.chmod(0o700)
    port = PORTS["postgres"]
    state.update(pgdata=str(data), pgsock=str(sockets), pg_bin=str(bindir), postgres_user=as_root)
    pg_run(
        [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        + ["--locale=C.UTF-8", "--no-sync"],
        state,
        "initdb",
    )
    options = shlex.join(
        ["-k", str(sockets), "-p", str(port), "-c", f"listen_addresses={HOST}"]
        + ["-c", "max_connections=300"]
    )
    cmd = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60"]
    state["processes"]["postgres"] = {
        "kind": "postgres",
        "pid": 0,
        "start_time": None,
        "cmd": [*cmd, "-o", options, "start"],
        "env": {},
        "port": port,
        "log": str(log),
    }
    postgres_start(state)
    save_state(state)
    pg_run(
        [str(bindir / "createdb"), "-h", HOST, "-p", str(port), "-U", "postgres", "rathaus"],
        {**state, "postgres_user": False},
        "createdb",
    )


def postgres_stop(state: dict[str, Any]) -> bool:
    proc = state["processes"]["postgres"]
    cmd = [state["pg_bin"] + "/pg_ctl", "-D", state["pgdata"], "-m", "fast", "-w", "-t", "30"]
    result = subprocess.run(
        as_postgres([*cmd, "stop"], state), capture_output=True, text=True, check=False
    )
    if result.returncode == 0 and wait_group_gone(proc, 5):
        return True
    signal_group(proc, signal.SIGKILL)
    return wait_group_gone(proc, 5)


# ---- the other processes ---------------------------------------------------------------------


def process_specs(
    nodes: int, workers: int, node_workers: int
) -> list[tuple[str, str, list[str], int | None]]:
    """(name, kind, command, port) of the app's processes."""
    specs: list[tuple[str, str, list[str], int | None]] = []
    for n in range(1, nodes + 1):
        port = PORTS["node"] + n - 1
        specs.append(
            (
                f"node{n}",
                "node",
                [str(BIN / "gunicorn"), "rathaus.wsgi", "--bind", f"{HOST}:{port}"]
                + ["--workers", str(node_workers), "--timeout", "60", "--graceful-timeout", "10"]
                # load the app before the port opens: nginx sends nothing to a node still loading
                + ["--preload"]
                # gunicorn's control socket is one path per user: nodes would share it
                + ["--no-control-socket", "--name", f"rathaus-node{n}"],
                port,
            )
        )
    for n in range(1, workers + 1):
        specs.append(
            (
                f"worker{n}",
                "worker",
                [str(BIN / "celery"), "-A", "rathaus.celery_app", "worker", "--loglevel", "INFO"]
                + ["--concurrency", "2", "--without-gossip", "--without-mingle"]
                + ["--hostname", f"worker{n}@%h"],
                None,
            )
        )
    for n in range(1, nodes + 1):
        specs.append(
            (
                f"beat{n}",
                "beat",
                [str(BIN / "celery"), "-A", "rathaus.celery_app", "beat", "--loglevel", "INFO"],
                None,
            )
        )
    return specs


def start_process(
    state: dict[str, Any], name: str, kind: str, cmd: list[str], port: int | None
) -> dict[str, Any]:
    extra = {"RATHAUS_VAR_DIR": str(CLUSTER_DIR / name)}
    if kind == "node":  # /metrics sums the node's gunicorn workers (core.metrics)
        extra["PROMETHEUS_MULTIPROC_DIR"] = str(CLUSTER_DIR / name / "metrics")
    if kind == "nginx":
        extra = {}
    log = LOG_DIR / f"{name}.log"
    pid = spawn(name, cmd, state["env"], extra)
    proc = {
        "kind": kind,
        "pid": pid,
        "start_time": start_time(pid),
        "cmd": cmd,
        "env": extra,
        "port": port,
        "log": str(log),
    }
    state["processes"][name] = proc
    save_state(state)
    return proc


def nginx_conf(state: dict[str, Any], upstream: list[str]) -> str:
    d = CLUSTER_DIR / "nginx"
    servers = "\n".join(
        f"        server {HOST}:{state['processes'][name]['port']} max_fails=1 fail_timeout=2s;"
        for name in upstream
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""# written by scripts/cluster.py; `scripts/cluster.py nodes N` rewrites the upstream
{user}daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {LOG_DIR}/nginx.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log {LOG_DIR}/nginx-access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    client_max_body_size 12m;
    upstream rathaus {{
{servers}
    }}
    server {{
        listen {HOST}:{state["ports"]["http"]};
        location / {{
            proxy_pass http://rathaus;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Request-ID $request_id;
            # a request is tried on the next node only if the first could not take it:
            # POSTs that reached a node are never sent twice (no non_idempotent)
            proxy_next_upstream error timeout;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if not found:
        raise ClusterError(
            "nginx is missing: make cluster-packages (or sudo apt-get install nginx)"
        )
    return found


def nginx_write(state: dict[str, Any], upstream: list[str]) -> None:
    d = CLUSTER_DIR / "nginx"
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    conf = CLUSTER_DIR / "nginx.conf"
    conf.write_text(nginx_conf(state, upstream))
    result = subprocess.run(
        [
            nginx_binary(),
            "-t",
            "-q",
            "-p",
            str(d),
            "-e",
            str(LOG_DIR / "nginx.log"),
            "-c",
            str(conf),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ClusterError(f"nginx rejects {rel(conf)}:\n{result.stdout}{result.stderr}")
    state["upstream"] = upstream


def nginx_cmd() -> list[str]:
    return [
        nginx_binary(),
        "-p",
        str(CLUSTER_DIR / "nginx"),
        "-e",
        str(LOG_DIR / "nginx.log"),
        "-c",
        str(CLUSTER_DIR / "nginx.conf"),
    ]


def s3_bucket() -> None:
    try:
        import boto3
    except ImportError:
        raise ClusterError("boto3 is missing: run this script with .venv/bin/python") from None
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{HOST}:{PORTS['s3']}",
        aws_access_key_id=S3_KEY,
        aws_secret_access_key=S3_SECRET,
        region_name=S3_REGION,
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": S3_REGION})


def rathaus_command(state: dict[str, Any], args: list[str]) -> str:
    """Run a `rathaus` management command against the cluster; its output goes to the log."""
    extra = {
        "RATHAUS_VAR_DIR": str(CLUSTER_DIR / "setup"),
        # Migrations and the demo city commit thousands of times: not waiting for each flush
        # to disk is safe here (a crash during setup means a fresh start anyway) and quicker.
        "PGOPTIONS": "-c synchronous_commit=off",
    }
    Path(extra["RATHAUS_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [str(BIN / "rathaus"), *args],
        env={**base_env(), **state["env"], **extra},
        cwd=extra["RATHAUS_VAR_DIR"],
        capture_output=True,
        text=True,
        check=False,
    )
    log = LOG_DIR / "setup.log"
    with log.open("a") as fh:
        fh.write(f"$ rathaus {shlex.join(args)}\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise ClusterError(
            f"rathaus {' '.join(args)} failed; last lines of {rel(log)}:\n{tail(log)}"
        )
    return result.stdout


def demo_logins(output: str) -> tuple[str, list[dict[str, str]]]:
    """The password and log-ins seed-demo printed at its end."""
    password, logins, lines = "", [], output.splitlines()
    for i, line in enumerate(lines):
        found = re.match(r"Demo log-ins \(password for all: (.+)\):", line.strip())
        if found:
            password = found.group(1)
            for entry in lines[i + 1 :]:
                parts = entry.split()
                email = next((part for part in parts if "@" in part), "")
                if not email:
                    break
                role = entry[: entry.index(email)].strip()
                office = entry.partition(" – ")[2].strip()
                logins.append({"role": role, "email": email, "office": office})
    return password, logins


# ---- commands ------------------------------------------------------------------------------


def clean_dir() -> None:
    """Remove what an earlier run left: only the paths this script creates."""
    for pattern in (
        "pgdata", "pgsock", "logs", "mail", "nginx", "setup", "cli", "node*", "worker*", "beat*",
        "nginx.conf", "state.json", "state.tmp",
    ):  # fmt: skip
        for path in CLUSTER_DIR.glob(pattern):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_start(args: argparse.Namespace) -> int:
    extra = dict(item.split("=", 1) for item in args.set)
    # `kill` of a starting cluster.py ends what it started so far, like Ctrl-C does
    signal.signal(signal.SIGTERM, _interrupted)
    begun = time.monotonic()
    with locked():
        old = load_state()
        if old is not None:
            alive_names = running(old)
            if alive_names:
                print(
                    f"A cluster is running ({', '.join(alive_names)}; {rel(STATE_FILE)}): "
                    "stop it first with `make cluster-stop`."
                )
                return 1
            print(f"removing the state of a cluster that no longer runs ({rel(STATE_FILE)})")
            old_pg = Path(old.get("pgdata") or CLUSTER_DIR).parent
            if old_pg.name.startswith("rathaus-cluster-pg-"):
                shutil.rmtree(old_pg, ignore_errors=True)
        ports = [PORTS["http"], PORTS["postgres"], PORTS["redis"], PORTS["s3"]]
        ports += [PORTS["node"] + n for n in range(args.nodes)]
        busy = [port for port in ports if not port_free(port)]
        if busy:
            print(
                f"Ports in use on {HOST}: {', '.join(map(str, busy))}. Something else listens "
                "there; choose other ports with RATHAUS_CLUSTER_PORT_OFFSET (docs/operations.md)."
            )
            return 1
        clean_dir()
        LOG_DIR.mkdir(parents=True)
        (CLUSTER_DIR / "mail").mkdir()
        state: dict[str, Any] = {
            "url": f"http://{HOST}:{PORTS['http']}",
            "cluster_dir": str(CLUSTER_DIR),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "ports": PORTS,
            "nodes": [f"node{n}" for n in range(1, args.nodes + 1)],
            "upstream": [],
            "env": app_env(extra=extra),
            "processes": {},
        }
        save_state(state)
        try:
            output = start_all(state, args)
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - reported, then cleaned up
            if isinstance(exc, ClusterError):
                print(f"\n{exc}\n")
            elif not isinstance(exc, KeyboardInterrupt):
                print(f"\n{type(exc).__name__}: {exc}\n")
            print("Stopping what was started (logs stay in " + rel(LOG_DIR) + "):")
            if not stop_all(state):
                STATE_FILE.unlink()
            return 1
        state["demo_password"], state["demo_logins"] = demo_logins(output)
        save_state(state)
    summary(state, time.monotonic() - begun)
    return 0


def start_all(state: dict[str, Any], args: argparse.Namespace) -> str:
    # Redis and S3 come up while initdb runs
    redis = start_process(
        state,
        "redis",
        "redis",
        ["redis-server", "--port", str(PORTS["redis"]), "--bind", HOST, "--save", ""]
        + ["--appendonly", "no", "--daemonize", "no"],
        PORTS["redis"],
    )
    s3 = start_process(
        state,
        "s3",
        "s3",
        [str(BIN / "moto_server"), "-H", HOST, "-p", str(PORTS["s3"])],
        PORTS["s3"],
    )
    with step(f"starting postgres on {HOST}:{PORTS['postgres']} (fresh, database rathaus)"):
        postgres_setup(state)
    with step(f"starting redis on {HOST}:{PORTS['redis']}"):
        wait_ready("redis", redis, 0)
    with step(f"starting s3 (moto) on {HOST}:{PORTS['s3']}, bucket {BUCKET}"):
        wait_ready("s3", s3, 0)
        s3_bucket()
    with step("rathaus migrate"):
        rathaus_command(state, ["migrate", "--no-input"])
    # The nodes boot (importing Django is most of it) while the demo city loads; the workers and
    # beat only afterwards, so that no periodic job runs against a half-loaded city.
    specs = process_specs(args.nodes, args.workers, args.node_workers)
    launched = []
    for name, kind, cmd, port in specs:
        if kind == "node":
            launched.append((name, start_process(state, name, kind, cmd, port)))
    with step("rathaus seed-demo (the demo city; the nodes boot meanwhile)"):
        output = rathaus_command(state, ["seed-demo"])
    for name, kind, cmd, port in specs:
        if kind != "node":
            launched.append((name, start_process(state, name, kind, cmd, port)))
    for name, proc in launched:
        where = f" on {HOST}:{proc['port']}" if proc["port"] else ""
        with step(f"starting {name}{where}"):
            wait_ready(name, proc, 0)
    with step(f"starting nginx on {HOST}:{PORTS['http']} -> {', '.join(state['nodes'])}"):
        nginx_write(state, list(state["nodes"]))
        nginx = start_process(state, "nginx", "nginx", nginx_cmd(), PORTS["http"])
        wait_ready("nginx", nginx, 0)
    return output


def summary(state: dict[str, Any], seconds: float) -> None:
    procs = state["processes"]
    status = http_status(f"{state['url']}/healthz")
    print(f"check: GET {state['url']}/healthz through nginx -> {status}")
    print(f"\nRathaus cluster running (started in {seconds:.1f} s): {state['url']}")
    print(f"  nginx     {HOST}:{procs['nginx']['port']} -> {', '.join(state['upstream'])}")
    for name in state["nodes"]:
        print(
            f"  {name:<9} {HOST}:{procs[name]['port']} gunicorn (RATHAUS_VAR_DIR {rel(CLUSTER_DIR / name)})"
        )
    workers = [name for name in procs if procs[name]["kind"] == "worker"]
    beats = [name for name in procs if procs[name]["kind"] == "beat"]
    print(f"  celery    {', '.join(workers)} (workers), {', '.join(beats)} (beat, one schedules)")
    print(
        f"  postgres  {HOST}:{procs['postgres']['port']} database rathaus ({rel(state['pgdata'])})"
    )
    print(f"  redis     {HOST}:{procs['redis']['port']} (broker db 0, cache db 1)")
    print(f"  s3        http://{HOST}:{procs['s3']['port']} bucket {BUCKET} (moto, in memory)")
    print(f"  logs      {rel(LOG_DIR)}/NAME.log, e-mails in {rel(CLUSTER_DIR / 'mail')}")
    if state.get("demo_logins"):
        print(f"\nDemo log-ins (password for all: {state['demo_password']}):")
        for login in state["demo_logins"]:
            office = f" – {login['office']}" if login["office"] else ""
            print(f"  {login['role']:<24} {login['email']}{office}")
    print(
        "\nrathaus commands against it: "
        'eval "$(.venv/bin/python scripts/cluster.py env)" && .venv/bin/rathaus ...'
    )
    print("stop it: make cluster-stop")


def stop_all(state: dict[str, Any]) -> list[str]:
    """End every recorded process: all but PostgreSQL at once, then PostgreSQL. Returns names
    that would not end."""
    failed = []
    procs = state["processes"]
    others = [name for name in procs if name != "postgres"]
    # the load balancer first, so that nothing new comes in while the nodes end
    others.sort(key=lambda name: procs[name]["kind"] != "nginx")
    signalled = {}
    for name in others:
        started = time.monotonic()
        count = signal_group(procs[name], signal.SIGTERM)
        signalled[name] = (count, started)
        if name == "nginx" and count:
            wait_group_gone(procs[name], 5)
    for name in others:
        proc = procs[name]
        count, started = signalled[name]
        if not count:
            print(f"{name}: was not running")
            continue
        print(f"stopping {name} (pid {proc['pid']}, {count} processes) ... ", end="", flush=True)
        remaining = STOP_TIMEOUT - (time.monotonic() - started)
        if wait_group_gone(proc, max(remaining, 0.5)):
            print(f"ok ({time.monotonic() - started:.1f} s)")
            continue
        signal_group(proc, signal.SIGKILL)
        if wait_group_gone(proc, 5):
            print(f"killed after {STOP_TIMEOUT:.0f} s")
        else:
            print("FAILED (still running)")
            failed.append(name)
    if "postgres" in procs:
        proc = procs["postgres"]
        if group_members(proc):
            with step(f"stopping postgres (pid {proc['pid']}, pg_ctl stop -m fast)"):
                if not postgres_stop(state):
                    failed.append("postgres")
        else:
            print("postgres: was not running")
    return failed


def cmd_stop(args: argparse.Namespace) -> int:
    with locked():
        state = load_state()
        if state is None:
            print(f"No cluster recorded in {rel(STATE_FILE)}: nothing to stop.")
            return 0
        failed = stop_all(state)
        if failed:
            print(f"Still running: {', '.join(failed)} (state kept in {rel(STATE_FILE)})")
            return 1
        STATE_FILE.unlink()
    print(f"Cluster stopped; logs in {rel(LOG_DIR)}.")
    return 0


def require_state() -> dict[str, Any]:
    state = load_state()
    if state is None:
        raise ClusterError(
            f"No cluster recorded in {rel(STATE_FILE)}: start one with `make cluster`."
        )
    return state


def require_process(state: dict[str, Any], name: str) -> dict[str, Any]:
    if name not in state["processes"]:
        raise ClusterError(f"No process {name!r}; there are: {', '.join(state['processes'])}")
    return state["processes"][name]  # type: ignore[no-any-return]


def cmd_kill(args: argparse.Namespace) -> int:
    with locked():
        state = require_state()
        proc = require_process(state, args.name)
        count = signal_group(proc, signal.SIGKILL)
        if not count:
            print(f"{args.name} (pid {proc['pid']}) was not running")
            return 0
        wait_group_gone(proc, 5)
    print(f"killed {args.name} (pid {proc['pid']}, {count} processes, SIGKILL)")
    return 0


def cmd_restart(args: argparse.Namespace) -> int:
    with locked():
        state = require_state()
        proc = require_process(state, args.name)
        if group_members(proc):
            with step(f"stopping {args.name} (pid {proc['pid']})"):
                if proc["kind"] == "postgres":
                    postgres_stop(state)
                else:
                    signal_group(proc, signal.SIGTERM)
                    if not wait_group_gone(proc, STOP_TIMEOUT):
                        signal_group(proc, signal.SIGKILL)
                        wait_group_gone(proc, 5)
        where = f" on {HOST}:{proc['port']}" if proc["port"] else ""
        with step(f"starting {args.name}{where}"):
            if proc["kind"] == "postgres":
                postgres_start(state)
            else:
                log = Path(proc["log"])
                offset = log.stat().st_size if log.exists() else 0
                pid = spawn(args.name, proc["cmd"], state["env"], proc["env"])
                proc.update(pid=pid, start_time=start_time(pid))
                save_state(state)
                wait_ready(args.name, proc, offset)
            save_state(state)
    print(f"{args.name} runs again (pid {proc['pid']})")
    return 0


def cmd_nodes(args: argparse.Namespace) -> int:
    with locked():
        state = require_state()
        if not 1 <= args.count <= len(state["nodes"]):
            raise ClusterError(
                f"the cluster has {len(state['nodes'])} nodes: choose 1 to {len(state['nodes'])}"
            )
        nginx = require_process(state, "nginx")
        if not alive(nginx):
            raise ClusterError("nginx is not running: scripts/cluster.py restart nginx")
        upstream = state["nodes"][: args.count]
        with step(f"nginx upstream -> {', '.join(upstream)} (reload)"):
            nginx_write(state, upstream)
            os.kill(nginx["pid"], signal.SIGHUP)
            save_state(state)
            # the old workers finish their requests; new ones read the new upstream
            time.sleep(0.5)
            wait_ready("nginx", nginx, 0)
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    state = require_state()
    env = {**state["env"], "RATHAUS_VAR_DIR": str(CLUSTER_DIR / "cli")}
    (CLUSTER_DIR / "cli").mkdir(parents=True, exist_ok=True)
    for key, value in env.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = load_state()
    if state is None:
        print(f"No cluster recorded in {rel(STATE_FILE)}.")
        return 1
    print(
        f"cluster {state['url']} (started {state['started_at']}), upstream: {', '.join(state['upstream'])}"
    )
    down = 0
    order = ["postgres", "redis", "s3", "node", "worker", "beat", "nginx"]
    for name, proc in sorted(
        state["processes"].items(), key=lambda item: order.index(item[1]["kind"])
    ):
        up = alive(proc)
        down += not up
        where = f"{HOST}:{proc['port']}" if proc["port"] else "-"
        print(f"  {name:<9} pid {proc['pid']:<8} {where:<16} {'running' if up else 'NOT RUNNING'}")
    print(f"GET {state['url']}/healthz -> {http_status(state['url'] + '/healthz')}")
    return 1 if down else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start a fresh cluster")
    start.add_argument("--nodes", type=int, default=2, help="gunicorn app nodes (and beats)")
    start.add_argument("--workers", type=int, default=2, help="Celery workers")
    start.add_argument("--node-workers", type=int, default=2, help="gunicorn workers per node")
    start.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an app setting for all processes (repeatable), e.g. --set RATHAUS_DB_POOL_MAX=8",
    )
    sub.add_parser("stop", help="end every process the cluster started")
    sub.add_parser("status", help="which processes run")
    sub.add_parser("env", help="print `export` lines of the app's environment")
    kill = sub.add_parser("kill", help="SIGKILL one process (group), e.g. node1, worker2")
    kill.add_argument("name")
    restart = sub.add_parser("restart", help="start one process again and wait until it is ready")
    restart.add_argument("name")
    nodes = sub.add_parser("nodes", help="nginx sends requests to the first N nodes only")
    nodes.add_argument("count", type=int)
    args = parser.parse_args(argv)
    if args.command == "start":
        if args.nodes < 1 or args.workers < 0 or args.node_workers < 1:
            parser.error("--nodes and --node-workers must be at least 1, --workers at least 0")
        if any("=" not in item for item in args.set):
            parser.error("--set takes NAME=VALUE")
    commands = {
        "start": cmd_start,
        "stop": cmd_stop,
        "status": cmd_status,
        "env": cmd_env,
        "kill": cmd_kill,
        "restart": cmd_restart,
        "nodes": cmd_nodes,
    }
    try:
        return commands[args.command](args)
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
