"""The Redis variants: sign-in counters (RATELIMIT_STORAGE_URI) and server-side sessions (REDIS_URL)."""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time

import pytest

from data.throttle import RedisStore, SignInThrottle, parse_limit
from tests.conftest import login


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server not installed (make test installs Debian's redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(d)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_redis_counters_lock_the_attackers_address_not_the_owner(redis_url):
    # Two "workers": two throttles over the same Redis.
    workers = [SignInThrottle(RedisStore(redis_url), parse_limit("5 per 15 minutes"), parse_limit("50 per 15 minutes"),
                              parse_limit("30 per 15 minutes")) for _ in range(2)]
    for i in range(5):
        assert workers[i % 2].retry_after("leader", "203.0.113.9") == 0
        workers[i % 2].fail("leader", "203.0.113.9")
    assert 55 <= workers[0].retry_after("leader", "203.0.113.9") <= 60
    assert workers[1].retry_after("leader", "203.0.113.9") > 0
    assert workers[1].retry_after("leader", "198.51.100.1") == 0
    workers[0].fail("leader", "203.0.113.9")  # a sixth failure after the lock doubles it
    assert workers[1].retry_after("leader", "203.0.113.9") > 60


def test_redis_sessions_end_at_logout(flask_app, client, app_db, redis_url):
    import redis
    from flask_session.redis import RedisSessionInterface

    r = redis.Redis.from_url(redis_url)
    saved = flask_app.session_interface
    flask_app.session_interface = RedisSessionInterface(flask_app, client=r, key_prefix="dangjian:sess:",
                                                        use_signer=False, permanent=True, sid_length=32)
    try:
        login(client, "leader")
        cookie = client.get_cookie("dangjian_session").value
        assert r.exists("dangjian:sess:" + cookie)
        page = client.get("/password").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/logout", data={"csrf_token": token}).status_code == 302
        assert not r.exists("dangjian:sess:" + cookie)
        thief = flask_app.test_client()
        thief.set_cookie("dangjian_session", cookie)
        assert thief.get("/_dash-layout").status_code == 401
    finally:
        flask_app.session_interface = saved
