"""Page latency and size at 40 / 1,000 / 10,000 generated units, through the real app.

Drives the Flask app with its test client as a browser does: sign in, then POST the Dash router
callback that renders a page (and, for 模拟测算, the what-if callback), with
``Accept-Encoding: br, gzip`` so the response size is what crosses the network.

- cold: the score cache cleared before each call (p95 of a few calls): what the first viewer after
  a data change waits for in a worker that has not computed the period yet;
- warm: p50 / p95 over repeated calls with the cache filled;
- baseline: the median cold call, i.e. recomputing from the database on every view (what the
  cache saves is ``baseline ÷ warm p95``);
- bytes: the compressed response (uncompressed size kept in the JSON).

Also measures the first-visit and repeat-visit transfer of the app shell (HTML, JS, CSS).
Targets: warm p95 ≤ 300 ms, cold p95 ≤ 1.5 s, response ≤ 1 MB compressed.
"""
from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

from benchmarks.table import Row, pct

ROOT = Path(__file__).resolve().parent.parent
TARGET_WARM_MS, TARGET_COLD_MS, TARGET_BYTES = 300.0, 1500.0, 1_000_000
PERIOD = "2026H1"
ACCEPT = {"Accept-Encoding": "br, gzip"}
from data.demo import DEMO_USERS  # noqa: E402

PASSWORDS = {u[0]: u[1] for u in DEMO_USERS}


CACHE = Path(__file__).resolve().parent / ".cache"  # ignored by git


def generator_version() -> str:
    """A digest of what a seeded benchmark database is made from: the demo generator, the bulk writer
    and the migrations. A change to any of them builds new databases; old ones are removed."""
    import hashlib

    parts = [ROOT / "data" / "demo.py", ROOT / "data" / "bulk.py", ROOT / "scoring" / "indicators.py"]
    parts += sorted((ROOT / "data" / "migrations" / "versions").glob("*.py"))
    h = hashlib.sha256()
    for p in parts:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:12]


def cached_file(n_units: int) -> Path:
    """The seeded SQLite file of ``n_units`` (built once per generator version, then reused: seeding
    10,000 units takes about 12 s of CPU). Benchmarks that write copy it first."""
    from data.db import Database
    from data.demo import seed_database

    path = CACHE / f"bench-{n_units}-{generator_version()}.sqlite3"
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        for old in CACHE.glob(f"bench-{n_units}-*.sqlite3*"):
            old.unlink()
        tmp = path.with_suffix(".building")
        tmp.unlink(missing_ok=True)
        db = Database(f"sqlite:///{tmp}")
        db.upgrade()
        t0 = time.perf_counter()
        seed_database(db, n_units=n_units)
        with db.engine.connect() as conn:  # one file, no -wal beside it, before it is renamed
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.dispose()
        for extra in (tmp.parent / (tmp.name + "-wal"), tmp.parent / (tmp.name + "-shm")):
            extra.unlink(missing_ok=True)
        tmp.rename(path)
        print(f"  seeded {n_units:,} units in {time.perf_counter() - t0:.1f} s ({path.name}, kept for next runs)",
              flush=True)
    return path


def database(n_units: int):
    """The generated database of ``n_units`` (the cached file; pages only read it, results are stored in it)."""
    from data.db import Database

    db = Database(f"sqlite:///{cached_file(n_units)}")
    db.upgrade()
    return db


def make_app():
    """The app as ``gunicorn app:server`` runs it (start-up objects frozen out of the GC's walks)."""
    from app import create_app, freeze_startup_objects

    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": "sqlite://", "LOGIN_LIMIT_USER": "100000 per minute",
                      "LOGIN_LIMIT_IP": "100000 per minute"})
    freeze_startup_objects()
    return app


def login(app, username: str):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    r = client.post("/login", data={"username": username, "password": PASSWORDS[username], "csrf_token": token})
    assert r.status_code == 302, r.status_code
    return client


_found: dict = {}
_found_lock = threading.Lock()


def _callback(app, output_part: str):
    """(key, spec) of the callback whose output names ``output_part`` (looked up once; thread-safe)."""
    with _found_lock:
        if (id(app), output_part) not in _found:
            dash_app = app.extensions["dash_app"]
            if not any("_pages_content" in k for k in dash_app.callback_map):
                with app.test_request_context():
                    dash_app._setup_server()
            cbs = dash_app.callback_map
            match = ((output_part, cbs[output_part]) if output_part in cbs else  # an exact key first
                     next(((k, cb) for k, cb in cbs.items() if output_part in k), None))
            if match is None:
                raise RuntimeError(f"callback {output_part} not found")
            _found[(id(app), output_part)] = match
        return _found[(id(app), output_part)]


def router_payload(app, path: str, search: str = "") -> dict:
    """The body Dash's pages router posts when the browser opens ``path?search``."""
    key, cb = _callback(app, "_pages_content")
    inputs = []
    for spec in cb["inputs"]:
        value = {"pathname": path, "search": search, "hash": "", "href": f"http://localhost{path}{search}"}.get(
            spec["property"])
        inputs.append({"id": spec["id"], "property": spec["property"], "value": value})
    state = [{"id": s["id"], "property": s["property"], "value": None} for s in cb.get("state", [])]
    outputs = ([{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in key.strip(".").split("...")]
               if key.startswith("..") else {"id": key.rsplit(".", 1)[0], "property": key.rsplit(".", 1)[1]})
    return {"output": key, "outputs": outputs, "inputs": inputs, "state": state,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}


def whatif_payload(app, period: str, grade: str, grade_min: float) -> dict:
    key, cb = _callback(app, "indicators-whatif-result.children")
    values = {"indicators-whatif-run": 1, "indicators-period-store": period, "indicators-whatif-grade": grade,
              "indicators-whatif-min": grade_min}
    inputs = [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in cb["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": values.get(s["id"])} for s in cb.get("state", [])]
    cid, prop = key.rsplit(".", 1)
    return {"output": key, "outputs": {"id": cid, "property": prop}, "inputs": inputs, "state": state,
            "changedPropIds": ["indicators-whatif-run.n_clicks"]}


def post(client, payload: dict) -> tuple[float, int, int]:
    """(milliseconds, compressed bytes, uncompressed bytes) of one callback POST."""
    t0 = time.perf_counter()
    resp = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json",
                       headers=ACCEPT)
    ms = (time.perf_counter() - t0) * 1000
    assert resp.status_code == 200, (resp.status_code, resp.get_data()[:300])
    body = resp.get_data()
    raw = len(_decode(body, resp.headers.get("Content-Encoding")))
    return ms, len(body), raw


def _decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    if encoding == "gzip":
        import gzip

        return gzip.decompress(body)
    return body


def pages(n_units: int) -> list[tuple[str, str, str, str]]:
    """(label, user, path, search) of every page measured."""
    return [
        ("排名总览 /", "leader", "/", f"?period={PERIOD}"),
        ("支部详情 /branch", "leader", "/branch/{unit}", f"?period={PERIOD}"),
        ("差距分析 /gaps", "leader", "/gaps", f"?period={PERIOD}"),
        ("差距分析 下钻一个局", "leader", "/gaps", f"?period={PERIOD}&group=临河县局"),
        ("先进候选 /candidates", "leader", "/candidates", "?period=2025"),
        ("整改台账 /rectifications", "inspector", "/rectifications", ""),
        ("数据上传 /upload（含历史）", "inspector", "/upload", f"?period={PERIOD}"),
        ("指标体系 /indicators", "leader", "/indicators", f"?period={PERIOD}"),
        ("审计日志 /audit", "admin", "/audit", ""),
        ("系统管理 /admin", "admin", "/admin", ""),
    ]


def measure(label: str, client, payload: dict, n_units: int, cold_reps: int, warm_reps: int, db=None) -> Row:
    """cold: nothing in memory and nothing in the shared store — the first view after a data change, in
    the worker that computes the new version; other: nothing in memory but the shared store filled —
    the first view in every other worker (reported in ``extra``)."""
    from data import results_store, services

    cold, cold_cpu, other, sizes = [], [], [], None
    for _ in range(cold_reps):
        services.clear_cache(db, stored=db is not None)
        c0 = time.process_time()
        ms, comp, raw = post(client, payload)
        cold_cpu.append((time.process_time() - c0) * 1000)
        cold.append(ms)
        sizes = (comp, raw)
        services.clear_cache()
        other.append(post(client, payload)[0])
    results_store.wait_stored()  # warm = the steady state: nothing left being stored in the background
    warm, cpu = [], []
    for _ in range(warm_reps):
        c0 = time.process_time()  # the test client runs the server code in this thread: its CPU time
        warm.append(post(client, payload)[0])
        cpu.append((time.process_time() - c0) * 1000)
    base = pct(cold, 50)
    ok = pct(warm, 95) <= TARGET_WARM_MS and pct(cold, 95) <= TARGET_COLD_MS and sizes[0] <= TARGET_BYTES
    return Row(label, n_units, cold=pct(cold, 95), warm_p50=pct(warm, 50), warm_p95=pct(warm, 95),
               bytes=sizes[0], baseline=base, ratio=base / max(pct(warm, 95), 1e-9),
               target="warm p95≤300 ms, cold p95≤1.5 s, ≤1 MB", ok=ok, extra={"uncompressed_bytes": sizes[1],
                                                                             "cold_runs_ms": cold,
                                                                             "other_worker_ms": other,
                                                                             "cold_cpu_p95_ms": pct(cold_cpu, 95),
                                                                             "warm_cpu_p95_ms": pct(cpu, 95)})


def page_rows(app, n_units: int, cold_reps: int, warm_reps: int) -> list[Row]:
    from app import use_database
    from data import services

    db = database(n_units)
    use_database(app, db)
    res = services.score_period(PERIOD, db)
    unit = res.units.sort_values("display_order")["unit"].iloc[len(res.units) // 2]
    clients: dict = {}
    rows = []
    for label, user, path, search in pages(n_units):
        client = clients.get(user) or clients.setdefault(user, login(app, user))
        rows.append(measure(label, client, router_payload(app, path.format(unit=unit), search), n_units,
                            cold_reps, warm_reps, db))
        print(f"  {rows[-1].line()}", flush=True)
    rows.append(measure("模拟测算（优秀线 95）", clients["leader"], whatif_payload(app, PERIOD, "优秀", 95), n_units,
                        cold_reps, warm_reps, db))
    print(f"  {rows[-1].line()}", flush=True)
    return rows


def transfer(app) -> dict:
    """Bytes of the app shell on a first visit and on a repeat visit (browser cache honoured)."""
    client = login(app, "leader")
    html = client.get("/", headers=ACCEPT)
    page = _decode(html.get_data(), html.headers.get("Content-Encoding")).decode()
    urls = re.findall(r'(?:src|href)="(/(?:_dash-component-suites|assets)/[^"]+)"', page)
    urls += ["/_dash-layout", "/_dash-dependencies"]
    first = len(html.get_data())
    repeat = len(html.get_data())
    raw_total = len(page)
    cached = 0
    for u in dict.fromkeys(urls):
        r = client.get(u, headers=ACCEPT)
        body = r.get_data()
        first += len(body)
        raw_total += len(_decode(body, r.headers.get("Content-Encoding")))
        cc = r.headers.get("Cache-Control", "")
        if "max-age=31536000" in cc:
            cached += 1  # a repeat visit takes it from the browser cache: 0 bytes
        else:
            etag = r.headers.get("ETag")
            again = client.get(u, headers={**ACCEPT, **({"If-None-Match": etag} if etag else {})})
            repeat += len(again.get_data())
    return {"first_visit_bytes": first, "first_visit_uncompressed": raw_total, "repeat_visit_bytes": repeat,
            "files": len(dict.fromkeys(urls)), "cached_for_a_year": cached}


def preview_row(app, n_units: int, cold_reps: int, warm_reps: int) -> Row:
    """预览 of a small CSV (one value for each of 4 units of the staff user) through the upload page's
    callback. cold: nothing in memory or in the shared store (a preview right after another commit)."""
    from app import use_database
    from benchmarks.loadtest import FIELD_LABEL, _cb_payload
    from data import services

    import base64

    db = database(n_units)
    use_database(app, db)
    inp = services.scoring_inputs(PERIOD, db)
    units = inp.units.loc[inp.units["bureau"] == "临河县局", "unit"].astype(str).tolist()[:4]
    text = "单位编码," + FIELD_LABEL + "\n" + "".join(f"{u},{3 + k}\n" for k, u in enumerate(units))
    contents = "data:text/csv;base64," + base64.b64encode(text.encode("utf-8")).decode()
    payload = _cb_payload(app, "upload-file-name.children", {
        ("upload-file", "contents"): contents, ("upload-file", "filename"): "small.csv",
        ("upload-period-store", "data"): PERIOD}, "upload-file.contents")
    row = measure(f"上传预览（{len(units)} 个单位的小文件）", login(app, "staff"), payload, n_units, cold_reps,
                  warm_reps, db)
    row.target = "cold p95≤1.5 s, warm p95≤300 ms"
    row.ok = (row.cold or 0) <= TARGET_COLD_MS and (row.warm_p95 or 0) <= TARGET_WARM_MS
    return row
