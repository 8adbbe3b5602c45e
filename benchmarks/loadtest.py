"""`make loadtest`: gunicorn (4 workers) under readers and uploaders, on PostgreSQL, then on SQLite.

Only 127.0.0.1 traffic, bounded in time. For each database:

1. seed LOADTEST_UNITS units (default 10,000) into a throwaway PostgreSQL cluster / a temp SQLite file;
2. start ``gunicorn app:server`` with 4 workers on a free local port;
3. for LOADTEST_SECONDS (default 60): LOADTEST_READERS (default 50) threads signed in as leader or
   inspector open the ranking, a branch detail and the gap page through the real Dash router callback;
   5 uploader threads (staff accounts created for the run, one unit each) preview and commit small
   CSV files through the upload page's callbacks; twice during the run two of them commit for the
   same unit at the same moment (a barrier);
4. report requests/s, client-side p50/p95 per request type, server-side p95 (gunicorn's access log
   %D), errors and worker timeouts;
5. verify: every commit the client saw succeed is in the database with all its values; the race left
   the batch with the higher id current and nothing half-written; and every worker serves the same
   totals as a fresh re-score (the branch page, asked repeatedly so every worker answers).

Prints one table per database; exit status 1 when a check fails or an error was seen.
"""
from __future__ import annotations

import base64
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import requests

from components.formats import round_half_up

from benchmarks.bench_pages import router_payload
from benchmarks.table import pct

ROOT = Path(__file__).resolve().parent.parent
UNITS = int(os.environ.get("LOADTEST_UNITS", "10000"))
SECONDS = float(os.environ.get("LOADTEST_SECONDS", "60"))
READERS = int(os.environ.get("LOADTEST_READERS", "50"))
UPLOADERS = 5
WORKERS = int(os.environ.get("LOADTEST_WORKERS", "4"))
PERIOD = "2026H1"
SERVER_P95_MS, PREVIEW_MS = 500.0, 1500.0  # issue 15: server-side p95 per page view; a small file's preview
FIELD_LABEL, FIELD = "支委会次数", "committee_meetings"
READER_PASSWORDS = {u[0]: u[1] for u in __import__("data.demo", fromlist=["DEMO_USERS"]).DEMO_USERS
                    if u[0] in ("leader", "inspector")}
STAFF_PASSWORD = "Load@test-2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ setup
def seed(url: str) -> list[str]:
    """The demo at UNITS units plus 5 staff accounts; returns the uploaders' unit codes."""
    from data.accounts import create_user
    from data.db import Database
    from data.demo import seed_database

    t0 = time.perf_counter()
    if url.startswith("sqlite:///"):  # a copy of the benchmarks' cached seeded file (built once)
        from benchmarks.bench_pages import cached_file

        shutil.copyfile(cached_file(UNITS), url.split("///", 1)[1])
    db = Database(url)
    db.upgrade()
    seed_database(db, n_units=UNITS)  # skipped when the copied file has units already
    from benchmarks.pg import settle

    settle(db)  # PostgreSQL: VACUUM ANALYZE, as autovacuum would after the load
    units = sorted(__import__("data.services", fromlist=["x"]).scoring_inputs(PERIOD, db).units["unit"])
    picked = units[1:1 + UPLOADERS]  # each uploader's own unit
    race_unit = units[-1]             # only the two racing uploaders write this one, and only in races
    for k, code in enumerate(picked):
        scope = [code, race_unit] if k >= UPLOADERS - 2 else [code]
        create_user(f"load{k}", STAFF_PASSWORD, "staff", f"压测干事{k}", scope, db=db)
    db.dispose()
    print(f"  seeded {UNITS} units in {time.perf_counter() - t0:.0f} s", flush=True)
    return picked + [race_unit]


@contextmanager
def gunicorn(url: str, log_dir: Path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "loadtest", "LOGIN_LIMIT_USER": "100000 per minute",
           "LOGIN_LIMIT_IP": "100000 per minute", "PYTHONPATH": str(ROOT), "SERVER_TIMING_CPU": "1"}
    access = log_dir / "access.log"
    errors = log_dir / "error.log"
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "app:server", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
         "--timeout", "30", "--access-logfile", str(access), "--access-logformat", '%(U)s %(s)s %(D)s %(b)s %({x-load-kind}i)s %({server-timing}o)s',
         "--error-logfile", str(errors)], cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if requests.get(base + "/login", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base, access, errors, proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


# ------------------------------------------------------------------ clients
class Client:
    def __init__(self, base: str, username: str, password: str, app):
        self.base, self.app = base, app
        self.s = requests.Session()
        page = self.s.get(base + "/login", timeout=120, headers={"X-Load-Kind": "login"}).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = self.s.post(base + "/login", data={"username": username, "password": password, "csrf_token": token},
                        allow_redirects=False, timeout=120, headers={"X-Load-Kind": "login"})
        assert r.status_code == 302, (username, r.status_code)

    def callback(self, payload: dict, timeout: float = 120, kind: str = "other") -> requests.Response:
        # X-Load-Kind: written to gunicorn's access log, for server-side times per request type.
        return self.s.post(self.base + "/_dash-update-component", data=json.dumps(payload),
                           headers={"Content-Type": "application/json", "Accept-Encoding": "br, gzip",
                                    "X-Load-Kind": kind}, timeout=timeout)


def _cb_payload(app, output_part: str, values: dict, changed: str) -> dict:
    from benchmarks.bench_pages import _callback

    key, cb = _callback(app, output_part)
    spec = lambda items: [{"id": s["id"], "property": s["property"], "value": values.get((s["id"], s["property"]))}
                          for s in items]
    outputs = ([{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in key.strip(".").split("...")]
               if key.startswith("..") else {"id": key.rsplit(".", 1)[0], "property": key.rsplit(".", 1)[1]})
    return {"output": key, "outputs": outputs, "inputs": spec(cb["inputs"]), "state": spec(cb.get("state", [])),
            "changedPropIds": [changed]}


def _text(r: requests.Response) -> str:
    """The body as text. Not ``r.text``: without a charset in Content-Type, requests guesses the encoding
    by scanning the whole body — seconds of client CPU per megabyte-sized Dash response."""
    return r.content.decode("utf-8", "replace")


def csv_contents(unit: str, value: int) -> str:
    data = f"单位编码,{FIELD_LABEL}\n{unit},{value}\n".encode("utf-8")
    return "data:text/csv;base64," + base64.b64encode(data).decode()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []
        self.commits: list[tuple[str, str, int]] = []  # (file name, unit, value) the client saw committed

    def record(self, kind: str, t0: float, ok: bool, note: str = ""):
        with self.lock:
            self.times[kind].append((time.perf_counter() - t0) * 1000)
            if not ok:
                self.errors[kind] += 1
                if len(self.samples) < 10:
                    self.samples.append(f"{kind}: {note[:200]}")


def signed_in(base, app, stop, stats, username, password) -> Client | None:
    """A signed-in client; a failed sign-in (timeout, 5xx) counts as an error and is retried."""
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            c = Client(base, username, password, app)
            stats.record("login", t0, True)
            return c
        except (requests.RequestException, AssertionError, AttributeError) as exc:
            stats.record("login", t0, False, repr(exc))
            time.sleep(1)
    return None


def reader(base, app, stop, stats, units, k):
    user = "leader" if k % 2 else "inspector"
    c = signed_in(base, app, stop, stats, user, READER_PASSWORDS[user])
    if c is None:
        return
    rng = random.Random(k)
    pages = [("ranking", "/", f"?period={PERIOD}"), ("detail", None, f"?period={PERIOD}"),
             ("gaps", "/gaps", f"?period={PERIOD}")]
    while not stop.is_set():
        kind, path, search = rng.choice(pages)
        path = path or f"/branch/{rng.choice(units)}"
        t0 = time.perf_counter()
        try:
            r = c.callback(router_payload(app, path, search), kind=kind)
            text = _text(r)
            ok = r.status_code == 200 and "系统错误" not in text
            stats.record(kind, t0, ok, f"{r.status_code} {text[:120]}")
        except requests.RequestException as exc:
            stats.record(kind, t0, False, repr(exc))


def upload(c: Client, app, stats: Stats, unit: str, value: int, name: str, barrier=None):
    contents = csv_contents(unit, value)
    t0 = time.perf_counter()
    try:
        r = c.callback(_cb_payload(app, "upload-file-name.children", {
            ("upload-file", "contents"): contents, ("upload-file", "filename"): name,
            ("upload-period-store", "data"): PERIOD}, "upload-file.contents"), kind="preview")
        text = _text(r)
        stats.record("preview", t0, r.status_code == 200 and "系统错误" not in text, f"{r.status_code} {text[:200]}")
        if barrier is not None:
            barrier.wait(timeout=60)
        t0 = time.perf_counter()
        r = c.callback(_cb_payload(app, "upload-history.children", {
            ("upload-commit", "n_clicks"): 1, ("upload-file", "contents"): contents,
            ("upload-file", "filename"): name, ("upload-period-store", "data"): PERIOD}, "upload-commit.n_clicks"),
            kind="commit")
        text = json.dumps(r.json(), ensure_ascii=False) if r.status_code == 200 else _text(r)
        ok = r.status_code == 200 and "已提交" in text
        stats.record("commit", t0, ok, f"{r.status_code} {text[:300]}")
        if ok:
            with stats.lock:
                stats.commits.append((name, unit, value))
    except (requests.RequestException, threading.BrokenBarrierError) as exc:
        stats.record("commit", t0, False, repr(exc))


def uploader(base, app, stop, stats, k, unit, race_unit, barrier):
    c = signed_in(base, app, stop, stats, f"load{k}", STAFF_PASSWORD)
    if c is None:
        return
    n = 0
    racing = k >= UPLOADERS - 2
    races = 0
    while not stop.is_set():
        n += 1
        if racing and races < 2 and (n == 1 or n % 3 == 0):  # the first race right away
            races += 1
            upload(c, app, stats, race_unit, 100 + 10 * races + k, f"race{races}-load{k}.csv", barrier)
        else:
            upload(c, app, stats, unit, 1 + (n * 7 + k) % 20, f"load{k}-{n}.csv")
        time.sleep(1.0)


# ------------------------------------------------------------------ checks
def server_times(access: Path) -> dict[str, list[float]]:
    """Milliseconds per URL path and per request type (the X-Load-Kind header), from the access log."""
    out: dict[str, list[float]] = defaultdict(list)
    for line in access.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2].isdigit():
            out[parts[0]].append(int(parts[2]) / 1000)
            if len(parts) >= 5 and parts[4] != "-":
                out["kind:" + parts[4]].append(int(parts[2]) / 1000)
                if len(parts) >= 6 and parts[5].startswith("cpu;dur="):  # cpu;dur=12.3,wait;dur=0.0
                    for metric in parts[5].split(","):
                        name, _, ms = metric.partition(";dur=")
                        out[f"{name}:{parts[4]}"].append(float(ms))
    return out


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its reaped children (utime + stime + cutime + cstime)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def server_cpu(master: int) -> float:
    """CPU seconds used so far by gunicorn: the master, its live workers and the workers it reaped."""
    total = _cpu_seconds(master)
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split() if Path(
            f"/proc/{master}/task/{master}/children").exists() else []:
        total += _cpu_seconds(int(child))
    return total


def verify(url: str, base: str, app, stats: Stats, units: list[str]) -> list[str]:
    from sqlalchemy import func, select

    from data import services
    from data.db import Database
    from data.models import EvidenceValue, OrgUnit, Period, UploadBatch

    problems = []
    if not stats.commits:
        problems.append("no commit completed during the run (nothing to check: the uploaders never got through)")
    elif not any(name.startswith("race") for name, _, _ in stats.commits):
        problems.append("no same-unit race commit completed during the run")
    db = Database(url)
    with db.session() as s:
        batches = {b.file_name: b for b in s.scalars(select(UploadBatch).where(UploadBatch.status == "committed"))}
        for name, unit, value in stats.commits:
            b = batches.get(name)
            if b is None:
                problems.append(f"committed {name} missing")
                continue
            n = s.scalar(select(func.count()).select_from(EvidenceValue).where(EvidenceValue.batch_id == b.id))
            if n != b.n_values or n < 1:
                problems.append(f"{name}: {n} rows stored, batch says {b.n_values}")
        # the race: per race round, the batch with the higher id is current
        race_unit = units[-1]
        uid = s.scalar(select(OrgUnit.id).where(OrgUnit.code == race_unit))
        pid = s.scalar(select(Period.id).where(Period.code == PERIOD))
        current = s.execute(select(EvidenceValue.value, EvidenceValue.batch_id).where(
            EvidenceValue.unit_id == uid, EvidenceValue.field == FIELD, EvidenceValue.period_id == pid,
            EvidenceValue.superseded_at.is_(None))).all()
        race_batches = sorted((b.id, name) for name, b in batches.items() if name.startswith("race"))
        if len(current) != 1:
            problems.append(f"race unit {race_unit}: {len(current)} current values (want 1)")
        elif race_batches and current[0][1] != race_batches[-1][0]:
            problems.append(f"race unit {race_unit}: current value from batch {current[0][1]}, "
                            f"latest committed race batch is {race_batches[-1][0]}")
        elif race_batches:
            want = next(v for name, _, v in stats.commits if name == race_batches[-1][1])
            if current[0][0] != want:
                problems.append(f"race unit {race_unit}: current value {current[0][0]}, the later batch wrote {want}")
    services.clear_cache()
    fresh = services.score_period(PERIOD, db).units.set_index("unit")["total"]
    checked = {u for _, u, _ in stats.commits} | {units[-1]}
    try:
        c = Client(base, "leader", READER_PASSWORDS["leader"], app)
        for unit in sorted(checked):
            want = "—" if fresh[unit] != fresh[unit] else f"{round_half_up(float(fresh[unit])):.2f}"
            for _ in range(3 * WORKERS):  # several answers, so every worker is asked
                r = c.callback(router_payload(app, f"/branch/{unit}", f"?period={PERIOD}"), timeout=300)
                got = _branch_total(r.json())
                if got != want:
                    problems.append(f"{unit}: a worker served total {got}, fresh re-score {want}")
                    break
    except requests.RequestException as exc:
        problems.append(f"could not ask the workers after the run: {exc!r}")
    db.dispose()
    return problems


def _branch_total(body) -> str | None:
    """The text of the component with id branch-total in a router response."""
    stack = [body]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            if x.get("props", {}).get("id") == "branch-total":
                return x["props"].get("children")
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return None


# ------------------------------------------------------------------ run
def run(label: str, url: str, tmp: Path, app) -> bool:
    print(f"== {label}: {UNITS} units, {WORKERS} gunicorn workers, {READERS} readers + {UPLOADERS} uploaders, "
          f"{SECONDS:.0f} s", flush=True)
    codes = seed(url)
    from data import services
    from data.db import Database

    db = Database(url)
    units = services.scoring_inputs(PERIOD, db).units["unit"].tolist()
    db.dispose()
    with gunicorn(url, tmp) as (base, access, errors, master):
        stats, stop = Stats(), threading.Event()
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=reader, args=(base, app, stop, stats, units, k), daemon=True)
                   for k in range(READERS)]
        threads += [threading.Thread(target=uploader, args=(base, app, stop, stats, k, codes[k], codes[-1], barrier),
                                     daemon=True) for k in range(UPLOADERS)]
        t0, cpu0, client0 = time.perf_counter(), server_cpu(master), time.process_time()
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join(timeout=150)
        elapsed, cpu = time.perf_counter() - t0, server_cpu(master) - cpu0
        client_cpu = time.process_time() - client0
        problems = verify(url, base, app, stats, codes)
    server = server_times(access)
    failed_targets: list[str] = []
    timeouts = len(re.findall(r"WORKER TIMEOUT", errors.read_text()))
    total = sum(len(v) for v in stats.times.values())
    print(f"{'request':<10}{'count':>7}{'errors':>8}{'client p50':>12}{'client p95':>12}{'server p50':>12}"
          f"{'server p95':>12}{'CPU p50':>10}{'CPU p95':>10}{'wait p95':>10}  target")
    targets = {"ranking": SERVER_P95_MS, "detail": SERVER_P95_MS, "gaps": SERVER_P95_MS, "preview": PREVIEW_MS}
    for kind in ("login", "ranking", "detail", "gaps", "preview", "commit"):
        xs, sv = stats.times.get(kind, []), server.get("kind:" + kind, [])
        goal = targets.get(kind)
        verdict = "" if goal is None else (f"server p95 ≤ {goal:.0f} ms: " + ("PASS" if sv and pct(sv, 95) <= goal
                                                                              else "FAIL"))
        if goal is not None and not (sv and pct(sv, 95) <= goal):
            failed_targets.append(f"{kind} server p95 {pct(sv, 95):.0f} ms > {goal:.0f} ms")
        cpu_ms = server.get("cpu:" + kind, [])
        print(f"{kind:<10}{len(xs):>7}{stats.errors.get(kind, 0):>8}{pct(xs, 50):>10.0f}ms{pct(xs, 95):>10.0f}ms"
              f"{pct(sv, 50):>10.0f}ms{pct(sv, 95):>10.0f}ms{pct(cpu_ms, 50):>8.0f}ms{pct(cpu_ms, 95):>8.0f}ms"
              f"{pct(server.get('wait:' + kind, []), 95):>8.0f}ms"
              f"  {verdict}")
    cb = server.get("/_dash-update-component", [])
    print(f"requests/s: {total / elapsed:.1f}; server-side p50/p95 of all callbacks: {pct(cb, 50):.0f} / "
          f"{pct(cb, 95):.0f} ms ({len(cb)} requests); gunicorn CPU {cpu:.0f} s in {elapsed:.0f} s "
          f"({1000 * cpu / max(len(cb), 1):.0f} ms per callback), client CPU {client_cpu:.0f} s; worker timeouts: {timeouts}; "
          f"commits seen by clients: {len(stats.commits)}; load average at the end: "
          f"{os.getloadavg()[0]:.1f}")
    for s in stats.samples:
        print("  error:", s)
    for p in problems:
        print("  CHECK FAILED:", p)
    locked = sum("database is locked" in s for s in stats.samples)
    for f in failed_targets:
        print("  TARGET MISSED:", f)
    correct = not problems and not stats.errors and timeouts == 0 and locked == 0
    print("checks: " + ("every commit present, race left the later batch current, every worker agrees with a "
                        "fresh re-score, 0 errors, 0 worker timeouts" if correct else "FAILED")
          + "; time targets: " + ("PASS" if not failed_targets else "FAIL"), flush=True)
    return correct and not failed_targets


def main() -> int:
    from app import use_database
    from benchmarks.bench_pages import database, make_app
    from benchmarks.pg import cluster

    app = make_app()  # only to build callback payloads; traffic goes to gunicorn
    use_database(app, database(40))
    app.test_client().get("/login")  # Dash registers its router callback on the first request
    ok = True
    which = os.environ.get("LOADTEST_DATABASES", "postgresql,sqlite").split(",")
    if "postgresql" in which:
        with cluster(max_connections=200) as url:
            if url is None:
                print("PostgreSQL not installed: skipped")
            else:
                tmp = Path(tempfile.mkdtemp(prefix="loadtest-pg-"))
                ok &= run("PostgreSQL", url, tmp, app)
                shutil.rmtree(tmp, ignore_errors=True)
    if "sqlite" in which:
        tmp = Path(tempfile.mkdtemp(prefix="loadtest-sqlite-"))
        try:
            ok &= run("SQLite (WAL)", f"sqlite:///{tmp / 'load.sqlite3'}", tmp, app)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
