"""Page latency with 10,000 generated units: server time of the ranking page and a branch detail page.

Drives the real Flask app with its test client (sign-in, then the Dash router callback
that renders a page, as the browser posts it), cold (score cache empty) and warm,
p50/p95 over repeated calls. The naive baseline is the same request with the score
cache cleared before every call, i.e. recomputing from the database each time.
Target: p95 ≤ 300 ms warm.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

N_UNITS = int(os.environ.get("BENCH_UNITS", "10000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "20"))
DB_PATH = Path(__file__).resolve().parent.parent / "instance" / f"bench-{N_UNITS}.sqlite3"


def _database():
    from data.db import Database
    from data.demo import seed_database

    fresh = not DB_PATH.exists()
    db = Database(f"sqlite:///{DB_PATH}")
    if fresh:
        t0 = time.perf_counter()
        db.upgrade()
        seed_database(db, n_units=N_UNITS)
        print(f"seeded {N_UNITS} units in {time.perf_counter() - t0:.1f} s ({DB_PATH.name}, kept for next runs)")
    return db


def _router_payload(app, path: str, search: str = ""):
    dash_app = app.extensions["dash_app"]
    for key, cb in dash_app.callback_map.items():
        if "_pages_content" in key:
            inputs = []
            for spec in cb["inputs"]:
                value = {"pathname": path, "search": search, "hash": ""}.get(spec["property"])
                inputs.append({"id": spec["id"], "property": spec["property"], "value": value})
            state = [{"id": s["id"], "property": s["property"], "value": None} for s in cb.get("state", [])]
            outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]}
                       for o in key.strip(".").split("...")] if key.startswith("..") else \
                {"id": key.split(".")[0], "property": key.split(".")[1]}
            return {"output": key, "outputs": outputs, "inputs": inputs, "state": state,
                    "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}
    raise RuntimeError("Dash pages router callback not found")


def _time(client, payload, repeat, clear_each=False):
    from data import services

    out = []
    for _ in range(repeat):
        if clear_each:
            services.clear_cache()
        t0 = time.perf_counter()
        resp = client.post("/_dash-update-component", data=json.dumps(payload), content_type="application/json")
        out.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200, resp.status_code
    return out


def _pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def main() -> int:
    from app import create_app, use_database
    from data import services

    db = _database()
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": "sqlite://", "LOGIN_LIMIT_USER": "1000 per minute"})
    from data.demo import DEMO_USERS

    use_database(app, db)
    client = app.test_client()
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"username": "leader", "password": {u[0]: u[1] for u in DEMO_USERS}["leader"],
                                       "csrf_token": token}).status_code == 302
    period = "2026H1"
    unit = services.score_period(period, db).units.sort_values("display_order")["unit"].iloc[len(
        services.score_period(period, db).units) // 2]
    ok = True
    print(f"{N_UNITS} units, {REPEAT} calls each; times in ms (server side, Flask test client)")
    print(f"{'page':<22}{'cold':>9}{'naive p50':>11}{'naive p95':>11}{'warm p50':>10}{'warm p95':>10}{'ratio p95':>11}")
    for label, path, search in [("排名总览 /", "/", f"?period={period}"),
                                (f"支部详情 /branch/{unit}", f"/branch/{unit}", f"?period={period}")]:
        payload = _router_payload(app, path, search)
        services.clear_cache()
        cold = _time(client, payload, 1)[0]
        naive = _time(client, payload, max(3, REPEAT // 4), clear_each=True)
        warm = _time(client, payload, REPEAT)
        ratio = _pct(naive, 95) / _pct(warm, 95)
        print(f"{label:<22}{cold:>9.0f}{_pct(naive, 50):>11.0f}{_pct(naive, 95):>11.0f}"
              f"{_pct(warm, 50):>10.0f}{_pct(warm, 95):>10.0f}{ratio:>10.1f}×")
        ok &= _pct(warm, 95) <= 300
    print("target p95 ≤ 300 ms warm:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
