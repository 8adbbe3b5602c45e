"""Load-and-score from SQLite and PostgreSQL, and the first page view after a commit in two workers.

What a user waits for when a period's data has changed: reading the evidence and scoring it once
(cold ``score_period``: nothing in memory, nothing in the shared store), and then every other worker
loading the stored result instead of scoring again. Two "workers" are two Flask apps with their own
``Database`` object (their own connection pool and in-process cache) on the same database, as two
gunicorn workers are.

``measure(url)`` returns one dict of figures per database; ``rows()`` gives the rows for the
``make bench`` table (SQLite bench file, and PostgreSQL from a throwaway cluster when the PostgreSQL
15 binaries are there); ``main()`` prints them. Targets (issue 15): cold score_period ≤ 1 s, first
view after an upload commit ≤ 1.5 s in any worker.
"""
from __future__ import annotations

from data.demo import DEMO_USERS

import contextlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_UNITS = int(os.environ.get("BENCH_UNITS", "10000"))
PERIOD = "2026H1"
TARGET_COLD_S = 1.0
TARGET_FIRST_VIEW_S = 1.5
ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


# --------------------------------------------------------------------------- databases

def sqlite_url(n_units: int = N_UNITS) -> str:
    """The benchmark SQLite file (seeded once, kept in instance/ as bench_pages does)."""
    from data.db import Database
    from data.demo import seed_database

    path = ROOT / "instance" / f"bench-{n_units}.sqlite3"
    url = f"sqlite:///{path}"
    fresh = not path.exists()
    db = Database(url)
    db.upgrade()
    if fresh:
        seed_database(db, n_units=n_units)
    db.dispose()
    return url


@contextlib.contextmanager
def postgres_url(n_units: int = N_UNITS):
    """A throwaway PostgreSQL 15 cluster on 127.0.0.1 seeded with ``n_units`` (None when not installed)."""
    if os.environ.get("BENCH_PG_URL"):
        yield os.environ["BENCH_PG_URL"]
        return
    if not (PG_BIN / "initdb").exists():
        yield None
        return
    user = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                pwd.getpwnam(name)
                user = name
                break

    def run(cmd):
        subprocess.run((["runuser", "-u", user, "--"] if user else []) + cmd, check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)

    tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    if user:
        shutil.chown(tmp, user)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp / "data"
    run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "bench", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
    run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(tmp / "log"), "-w", "-o",
         f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    try:
        import psycopg

        with psycopg.connect(f"postgresql://bench@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench"')
        url = f"postgresql+psycopg://bench@127.0.0.1:{port}/bench"
        from data.db import Database
        from data.demo import seed_database

        db = Database(url)
        db.upgrade()
        seed_database(db, n_units=n_units)
        from benchmarks.pg import settle

        settle(db)
        db.dispose()
        yield url
    finally:
        with contextlib.suppress(Exception):
            run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- measurements

def _worker(url: str):
    """A Flask app with its own Database (pool and in-process cache), signed in as the leader."""
    from app import create_app, use_database
    from data.db import Database

    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": "sqlite://", "LOGIN_LIMIT_USER": "1000 per minute",
                      "LOGIN_LIMIT_IP": "1000 per minute"})
    db = Database(url)
    use_database(app, db)
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": "leader", "password": {u[0]: u[1] for u in DEMO_USERS}["leader"],
                                       "csrf_token": token}).status_code == 302
    return app, db, client


def _view(app, client, path: str = "/", search: str = f"?period={PERIOD}") -> tuple[float, int]:
    from benchmarks.bench_pages import _router_payload

    payload = _router_payload(app, path, search)
    t0 = time.perf_counter()
    resp = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
    elapsed = time.perf_counter() - t0
    assert resp.status_code == 200, resp.status_code
    return elapsed, len(resp.get_data())


def _upload(db, n: int = 4) -> bytes:
    """A small CSV changing one value of ``n`` units (a staff member's correction)."""
    from data import services

    units = services.scoring_inputs(PERIOD, db).units["unit"].tolist()[:n]
    stamp = int(time.time() * 1000) % 7 + 3
    return ("单位编码,支委会次数\n" + "".join(f"{u},{stamp}\n" for u in units)).encode("utf-8")


def measure(url: str, repeat: int = 3) -> dict:
    """Cold score_period (best and median of ``repeat``), a stored-result load in another worker, and
    the first ranking view after a commit in the committing worker and in a second one."""
    from data import columnar, evidence_service, results_store, services
    from data.accounts import principal_by_name
    from data.db import Database

    db = Database(url)
    columnar.preload(url)  # as the server does when it starts (app.use_database)
    cold, cold_cpu, load = [], [], []
    for _ in range(repeat):
        services.clear_cache(db, stored=True)
        before = results_store.STATS.snapshot()
        t0, c0 = time.perf_counter(), time.process_time()
        services.score_period(PERIOD, db)
        cold.append(time.perf_counter() - t0)
        cold_cpu.append(time.process_time() - c0)
        assert results_store.STATS.engine_runs == before["engine_runs"] + 1
        other = Database(url)  # another worker: empty memory, the stored result is there
        t0 = time.perf_counter()
        services.score_period(PERIOD, other)
        load.append(time.perf_counter() - t0)
        assert results_store.STATS.engine_runs == before["engine_runs"] + 1, "the second worker re-scored"
        other.dispose()
    app_a, db_a, client_a = _worker(url)
    app_b, db_b, client_b = _worker(url)
    for app, client in ((app_a, client_a), (app_b, client_b)):
        _view(app, client)  # both warm before the commit
    warm, size = _view(app_a, client_a)
    with app_a.app_context():
        res = evidence_service.commit_upload(db_a, _upload(db_a), "bench.csv", PERIOD,
                                             principal_by_name("inspector", db=db_a))
    assert res.status == "committed", res.status
    runs = results_store.STATS.engine_runs
    first_a, _ = _view(app_a, client_a)
    first_b, _ = _view(app_b, client_b)
    engine_after_commit = results_store.STATS.engine_runs - runs
    for d in (db, db_a, db_b):
        d.dispose()
    return {"cold_score_period_s": min(cold), "cold_median_s": sorted(cold)[len(cold) // 2],
            "cold_cpu_s": min(cold_cpu), "load_average": os.getloadavg()[0],
            "stored_load_other_worker_s": min(load), "warm_view_s": warm, "response_bytes": size,
            "first_view_after_commit_worker_a_s": first_a, "first_view_after_commit_worker_b_s": first_b,
            "engine_runs_after_commit": engine_after_commit}


def rows(n_units: int = N_UNITS, repeat: int = 3) -> list[dict]:
    """One row per database for the ``make bench`` table."""
    out = []
    for name, ctx in (("SQLite", contextlib.nullcontext(sqlite_url(n_units))), ("PostgreSQL", postgres_url(n_units))):
        with ctx as url:
            if url is None:
                out.append({"benchmark": f"load-and-score {name}", "size": n_units, "skipped": True})
                continue
            m = measure(url, repeat)
            ok = m["cold_score_period_s"] <= TARGET_COLD_S and max(
                m["first_view_after_commit_worker_a_s"], m["first_view_after_commit_worker_b_s"]) <= TARGET_FIRST_VIEW_S
            out.append({"benchmark": f"load-and-score {name}", "size": n_units, **m,
                        "target": f"cold ≤ {TARGET_COLD_S:g} s, first view after commit ≤ {TARGET_FIRST_VIEW_S:g} s",
                        "pass": ok})
    return out


def main() -> int:
    print(f"{N_UNITS} units, period {PERIOD}; seconds (server side); cold = nothing in memory or in the store")
    print(f"{'database':<12}{'cold':>8}{'cold med':>10}{'cold CPU':>10}{'other worker':>14}{'warm view':>11}"
          f"{'1st view A':>12}{'1st view B':>12}{'engine runs':>13}{'load avg':>10}  result")
    ok = True
    for r in rows():
        name = r["benchmark"].split()[-1]
        if r.get("skipped"):
            print(f"{name:<12}skipped (PostgreSQL 15 binaries not found)")
            continue
        ok &= r["pass"]
        print(f"{name:<12}{r['cold_score_period_s']:>8.2f}{r['cold_median_s']:>10.2f}{r['cold_cpu_s']:>10.2f}"
              f"{r['stored_load_other_worker_s']:>14.2f}{r['warm_view_s']:>11.2f}"
              f"{r['first_view_after_commit_worker_a_s']:>12.2f}{r['first_view_after_commit_worker_b_s']:>12.2f}"
              f"{r['engine_runs_after_commit']:>13}{r['load_average']:>10.1f}  {'PASS' if r['pass'] else 'FAIL'}")
    print("cold CPU: this process's CPU time (SQLite works inside it; PostgreSQL's server CPU is not counted); "
          "load avg: the machine's 1-minute load when measured (2 cores)")
    print(f"targets: cold score_period ≤ {TARGET_COLD_S:g} s; first view after an upload commit ≤ "
          f"{TARGET_FIRST_VIEW_S:g} s in every worker")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
