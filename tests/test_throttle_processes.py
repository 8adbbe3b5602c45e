"""Sign-in limits hold across processes: 3 app instances sharing one database, and gunicorn with 3 workers.

Each is a real server process; the client's address comes from X-Forwarded-For through
ProxyFix (TRUSTED_PROXY_HOPS=1), so one machine can play the attacker and the owner.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from data.db import Database
from data.models import AuditLog
from tests.conftest import PASSWORDS

ROOT = Path(__file__).resolve().parent.parent
ATTACKER, OWNER = "203.0.113.5", "198.51.100.7"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(db_path: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "shared-secret",
           "TRUSTED_PROXY_HOPS": "1", "LOGIN_LIMIT_USER": "5 per 15 minutes", "PYTHONUNBUFFERED": "1"}
    for k in ("RATELIMIT_STORAGE_URI", "REDIS_URL", "SESSION_REDIS_URL"):
        env.pop(k, None)
    return env


def _wait(url: str, proc) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stdout.read() if proc.stdout else "server died")
        try:
            if requests.get(url + "/healthz", timeout=60).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.3)
    raise TimeoutError(url)


def _attempt(base: str, username: str, password: str, ip: str) -> int:
    s = requests.Session()
    s.headers["X-Forwarded-For"] = ip
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(base + "/login", timeout=30).text).group(1)
    return s.post(base + "/login", data={"username": username, "password": password, "csrf_token": token},
                  allow_redirects=False, timeout=30).status_code


@pytest.fixture
def shared_db(demo_file, tmp_path):
    path = tmp_path / "shared.sqlite3"
    shutil.copy(demo_file, path)
    return path


def _start(cmd: list[str], env: dict):
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop(procs) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


def test_six_wrong_passwords_over_three_instances_sharing_one_database(shared_db):
    env = _env(shared_db)
    ports = [_port() for _ in range(3)]
    procs = [_start([sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(p)], env) for p in ports]
    try:
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for base, proc in zip(bases, procs):
            _wait(base, proc)
        codes = [_attempt(bases[i % 3], "inspector", "wrong-guess", ATTACKER) for i in range(6)]
        assert codes == [401] * 5 + [429], codes
        # Every instance now refuses the attacker's address, even with the right password...
        assert [_attempt(b, "inspector", PASSWORDS["inspector"], ATTACKER) for b in bases] == [429] * 3
        # ...and the owner, elsewhere, signs in on any of them.
        assert _attempt(bases[1], "inspector", PASSWORDS["inspector"], OWNER) == 302
    finally:
        _stop(procs)
    db = Database(f"sqlite:///{shared_db}")
    try:
        with db.session() as s:
            failed = s.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "login_failed",
                                                                                AuditLog.ip == ATTACKER))
    finally:
        db.dispose()
    assert failed == 5


def test_gunicorn_with_three_workers_holds_the_limit(shared_db):
    gunicorn = Path(sys.executable).with_name("gunicorn")
    if not gunicorn.exists():
        pytest.skip("gunicorn not installed")
    env = _env(shared_db)
    port = _port()
    proc = _start([str(gunicorn), "app:server", "--workers", "3", "--bind", f"127.0.0.1:{port}"], env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, proc)
        codes = [_attempt(base, "leader", f"guess-{i}", ATTACKER) for i in range(15)]
        assert codes == [401] * 5 + [429] * 10, codes
        assert _attempt(base, "leader", PASSWORDS["leader"], OWNER) == 302
        resp = requests.get(base + "/login", timeout=30)
        assert "gunicorn" not in resp.headers.get("Server", "").lower() or "/" not in resp.headers.get("Server", "")
    finally:
        _stop([proc])
