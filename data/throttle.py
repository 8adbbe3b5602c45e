"""Failed sign-in counters shared by every worker and host: the app database by default, Redis if configured.

Three counters per failed sign-in, all in one store so that gunicorn workers and several
hosts see the same numbers:

- ``pair:<account>|<ip>`` — the attacker's own bucket. Reaching ``per_pair`` failures locks
  that account *from that IP* for 1 minute, doubling with each further failure (max 1 hour).
  The owner signing in from another address is not affected.
- ``acct:<account>`` — failures from every IP. Past ``per_account`` (distributed guessing),
  an IP that already failed on this account is refused; an address with no failures (the
  owner) still gets through.
- ``ip:<ip>`` — failures on any account from one address (password spraying).

A success clears the pair counter. Counts decay: a counter is reset when its window has
passed since the last failure (pair) or since the window started (account, IP).
Knows nothing of Flask; ``auth.py`` calls ``check`` before and ``fail``/``succeed`` after a sign-in.
"""
from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from data.db import Database
from data.models import LoginThrottle, utcnow

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
BASE_LOCK = 60
MAX_LOCK = 3600


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


def parse_limit(text: str) -> Limit:
    """``"5 per 15 minutes"`` / ``"30/hour"`` → Limit(5, 900)."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:per|/)\s*(\d*)\s*(second|minute|hour|day)s?\s*", text or "", re.I)
    if not m:
        raise ValueError(f"bad rate limit {text!r}; write e.g. '5 per 15 minutes'")
    return Limit(int(m.group(1)), int(m.group(2) or 1) * UNITS[m.group(3).lower()])


@dataclass(frozen=True)
class Counter:
    failures: int
    window_start: float  # epoch seconds
    last_failure: float


class DatabaseStore:
    """Counters in ``login_throttle``; each failure is one atomic UPDATE (or INSERT)."""

    def __init__(self, db: Database):
        self.db = db

    def get(self, key: str) -> Counter | None:
        with self.db.session() as s:
            row = s.get(LoginThrottle, key)
            if row is None:
                return None
            return Counter(row.failures, _epoch(row.window_start), _epoch(row.last_failure))

    def hit(self, key: str, window: int, sliding: bool) -> Counter:
        now = utcnow()
        cutoff = now - dt.timedelta(seconds=window)
        anchor = LoginThrottle.last_failure if sliding else LoginThrottle.window_start
        from sqlalchemy import case

        stale = anchor <= cutoff
        stmt = (update(LoginThrottle).where(LoginThrottle.key == key)
                .values(failures=case((stale, 1), else_=LoginThrottle.failures + 1),
                        window_start=case((stale, now), else_=LoginThrottle.window_start), last_failure=now))
        for _ in range(3):
            try:
                with self.db.session() as s:
                    if s.execute(stmt).rowcount == 0:
                        s.execute(insert(LoginThrottle).values(key=key, failures=1, window_start=now,
                                                               last_failure=now))
                break
            except IntegrityError:
                continue  # another worker inserted the row first: update it instead
        return self.get(key)

    def clear(self, key: str) -> None:
        with self.db.session() as s:
            s.execute(delete(LoginThrottle).where(LoginThrottle.key == key))

    def reset_all(self) -> None:
        with self.db.session() as s:
            s.execute(delete(LoginThrottle))


class RedisStore:
    """Counters as Redis hashes with an expiry (``RATELIMIT_STORAGE_URI=redis://...``)."""

    def __init__(self, url: str):
        import redis

        self.r = redis.Redis.from_url(url)
        self.prefix = "dangjian:login:"

    def get(self, key: str) -> Counter | None:
        h = self.r.hgetall(self.prefix + key)
        if not h:
            return None
        return Counter(int(h[b"failures"]), float(h[b"window_start"]), float(h[b"last_failure"]))

    def hit(self, key: str, window: int, sliding: bool) -> Counter:
        k, now = self.prefix + key, time.time()
        old = self.get(key)
        anchor = (old.last_failure if sliding else old.window_start) if old else None
        pipe = self.r.pipeline()
        if old is None or anchor <= now - window:
            pipe.hset(k, mapping={"failures": 0, "window_start": now})
        pipe.hincrby(k, "failures", 1)
        pipe.hset(k, "last_failure", now)
        pipe.expire(k, window + MAX_LOCK)
        pipe.execute()
        return self.get(key)

    def clear(self, key: str) -> None:
        self.r.delete(self.prefix + key)

    def reset_all(self) -> None:
        for k in self.r.scan_iter(self.prefix + "*"):
            self.r.delete(k)


def _epoch(d: dt.datetime) -> float:
    return d.replace(tzinfo=dt.timezone.utc).timestamp()


class SignInThrottle:
    """The sign-in policy over a store (see the module docstring)."""

    def __init__(self, store, per_pair: Limit, per_account: Limit, per_ip: Limit):
        self.store, self.per_pair, self.per_account, self.per_ip = store, per_pair, per_account, per_ip

    @staticmethod
    def _keys(account: str, ip: str) -> tuple[str, str, str]:
        account = (account or "").strip().lower()[:64]
        ip = (ip or "-")[:64]
        return f"pair:{account}|{ip}", f"acct:{account}", f"ip:{ip}"

    def retry_after(self, account: str, ip: str) -> int:
        """Seconds until this (account, IP) may try again; 0 = may try now."""
        pair_key, acct_key, ip_key = self._keys(account, ip)
        now = time.time()
        wait = 0.0
        pair = self.store.get(pair_key)
        if pair and pair.failures >= self.per_pair.count:
            lock = min(MAX_LOCK, BASE_LOCK * 2 ** min(pair.failures - self.per_pair.count, 12))
            wait = max(wait, pair.last_failure + lock - now)
        ipc = self.store.get(ip_key)
        if ipc and ipc.window_start > now - self.per_ip.seconds and ipc.failures >= self.per_ip.count:
            wait = max(wait, ipc.window_start + self.per_ip.seconds - now)
        acct = self.store.get(acct_key)
        if (acct and acct.window_start > now - self.per_account.seconds and acct.failures >= self.per_account.count
                and pair and pair.last_failure > now - self.per_pair.seconds):
            wait = max(wait, acct.window_start + self.per_account.seconds - now)
        return int(wait + 0.999) if wait > 0 else 0

    def fail(self, account: str, ip: str) -> None:
        pair_key, acct_key, ip_key = self._keys(account, ip)
        self.store.hit(pair_key, self.per_pair.seconds, sliding=True)
        self.store.hit(acct_key, self.per_account.seconds, sliding=False)
        self.store.hit(ip_key, self.per_ip.seconds, sliding=False)

    def succeed(self, account: str, ip: str) -> None:
        self.store.clear(self._keys(account, ip)[0])


def make_throttle(db: Database, storage_uri: str | None, per_pair: str, per_account: str, per_ip: str):
    uri = storage_uri or ""
    store = RedisStore(uri) if uri.startswith(("redis://", "rediss://", "unix://")) else DatabaseStore(db)
    return SignInThrottle(store, parse_limit(per_pair), parse_limit(per_account), parse_limit(per_ip))
