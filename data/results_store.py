"""Results computed once per data change and shared by every worker.

Owns the three levels a period's results (ScoreResult, gap lists) are served from:

1. a small in-process LRU per ``Database`` object (one per app, i.e. per gunicorn
   worker), keyed by the period's ``data_version`` and table version as read from
   the database on every call — a commit in any worker bumps the version, so no
   worker ever serves a result older than the last commit;
2. the shared store: the frames packed by ``data/frames.py``, in the database
   table ``stored_results`` (default), or in Redis when ``RESULTS_REDIS_URL`` is
   set. The first worker to need a version computes and stores it; every other
   worker and host loads it (tens of ms) instead of re-reading the evidence and
   re-scoring;
3. computing it, at most once at a time per key across workers: a PostgreSQL
   advisory lock, or a lock file beside the SQLite database file (SQLite means
   one host). A worker that waited finds the stored result and loads it.

``STATS`` counts what happened (engine runs, loads from the store, memory hits)
for tests and benchmarks. Must not score anything itself (the caller passes the
function that does) nor know any page.
"""
from __future__ import annotations

import atexit
import contextlib
import errno
import hashlib
import logging
import os
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from data.db import Database
from data.models import Period, Publication, StoredResult, utcnow

log = logging.getLogger(__name__)

CACHE_SIZE = 12  # entries per worker: a few periods × (score, gaps, inputs, snapshot)
REDIS_TTL_SECONDS = 7 * 24 * 3600


# --------------------------------------------------------------------------- counters

class Stats:
    """Process-wide counters (thread-safe). ``engine_runs`` is incremented by the caller that runs
    ``scoring.engine.score`` for a period (``services.score_period``)."""

    FIELDS = ("engine_runs", "computed", "loaded", "memory_hits", "stored")

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            for f in self.FIELDS:
                setattr(self, f, 0)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {f: getattr(self, f) for f in self.FIELDS}


STATS = Stats()


# --------------------------------------------------------------------------- version key

@dataclass(frozen=True)
class Version:
    """What a period's results depend on, read from the database on every request."""

    period_code: str
    period_id: int
    data_version: int
    table_version_id: int
    status: str
    publication_id: int | None  # the newest publication (used when the status is 已发布)
    units_version: int = 0  # the units assessed (org changes, period dates); see models.Period


def pin_versions() -> None:
    """For the rest of this request, ``version`` (and ``pinned``) answer from their first read.

    A page view then works on one consistent version of each period, with one query per period
    instead of one per derived result it asks for (eleven on the branch page, about 10 ms). Only for
    requests that do not write: page layouts (``pages/_access.open_page``). A write's own request
    must see the version it made.
    """
    from flask import g, has_request_context

    if has_request_context():
        g.pinned_reads = {}


def pinned(key: tuple, read: Callable[[], object]):
    """``read()``, once per pinned request (see ``pin_versions``); every time outside one."""
    from flask import g, has_request_context

    memo = g.get("pinned_reads") if has_request_context() else None
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def version(db: Database, period_code: str) -> Version | None:
    """One indexed query: the period's versions and its newest publication, or None for no such period."""
    return pinned(("version", db, period_code), lambda: _read_version(db, period_code))


def _read_version(db: Database, period_code: str) -> Version | None:
    newest = select(func.max(Publication.id)).where(Publication.period_id == Period.id).scalar_subquery()
    with db.session() as s:
        row = s.execute(select(Period.id, Period.data_version, Period.table_version_id, Period.status, newest,
                               Period.units_version).where(Period.code == period_code)).first()
    if row is None:
        return None
    return Version(period_code, int(row[0]), int(row[1] or 0), int(row[2]), row[3],
                   None if row[4] is None else int(row[4]), int(row[5] or 0))


# --------------------------------------------------------------------------- in-process cache

class _Memory:
    def __init__(self):
        self.lock = threading.Lock()
        self.items: OrderedDict[tuple, object] = OrderedDict()
        self.families: dict[tuple, tuple] = {}
        self.building: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return True, self.items[key]
        return False, None

    def put(self, key: tuple, value, family: tuple | None = None) -> None:
        """``family``: entries of the same family (a period's score of other versions) are dropped,
        so an old version never waits in memory for the LRU to push it out."""
        with self.lock:
            if family is not None:
                for k in [k for k, f in self.families.items() if f == family and k != key]:
                    self.items.pop(k, None)
                    self.families.pop(k, None)
                self.families[key] = family
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > CACHE_SIZE:
                gone, _ = self.items.popitem(last=False)
                self.families.pop(gone, None)

    def key_lock(self, key: tuple) -> threading.Lock:
        with self.lock:
            return self.building.setdefault(key, threading.Lock())


_memories: weakref.WeakKeyDictionary[Database, _Memory] = weakref.WeakKeyDictionary()
_memories_lock = threading.Lock()


def _memory(db: Database) -> _Memory:
    with _memories_lock:
        m = _memories.get(db)
        if m is None:
            m = _memories[db] = _Memory()
        return m


def clear_memory(db: Database | None = None) -> None:
    """Forget the in-process copies (of one Database, or all); the shared store is kept."""
    with _memories_lock:
        targets = [_memories.get(db)] if db is not None else list(_memories.values())
    for m in targets:
        if m is not None:
            with m.lock:
                m.items.clear()
                m.families.clear()


def memoised(db: Database, key: tuple, build: Callable[[], object], family: tuple | None = None):
    """In-process only (for cheap-to-rebuild things such as the units frame and table of a version)."""
    mem = _memory(db)
    hit, value = mem.get(key)
    if hit:
        return value
    with mem.key_lock(key):
        hit, value = mem.get(key)
        if hit:
            return value
        value = build()
        mem.put(key, value, family)
        return value


# --------------------------------------------------------------------------- shared store

class _DatabaseBackend:
    def get(self, db: Database, v: Version, kind: str) -> bytes | None:
        with db.session() as s:
            return s.scalar(select(StoredResult.payload).where(
                StoredResult.period_id == v.period_id, StoredResult.kind == kind,
                StoredResult.data_version == v.data_version, StoredResult.table_version_id == v.table_version_id))

    def put(self, db: Database, v: Version, kind: str, payload: bytes) -> None:
        try:
            with db.session() as s:
                store_in_session(s, v, kind, payload)
        except IntegrityError:
            pass  # another worker stored the same version first: same content

    def discard(self, db: Database, v: Version, kind: str) -> None:
        with db.session() as s:
            s.execute(delete(StoredResult).where(
                StoredResult.period_id == v.period_id, StoredResult.kind == kind,
                StoredResult.data_version == v.data_version, StoredResult.table_version_id == v.table_version_id))


class _RedisBackend:
    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url)

    @staticmethod
    def _key(db: Database, v: Version, kind: str) -> str:
        where = hashlib.sha256(db.url.encode()).hexdigest()[:12]
        return f"dangjian:result:{where}:{v.period_id}:{kind}:{v.data_version}:{v.table_version_id}"

    def get(self, db: Database, v: Version, kind: str) -> bytes | None:
        return self.client.get(self._key(db, v, kind))

    def put(self, db: Database, v: Version, kind: str, payload: bytes) -> None:
        self.client.set(self._key(db, v, kind), payload, ex=REDIS_TTL_SECONDS)

    def discard(self, db: Database, v: Version, kind: str) -> None:
        self.client.delete(self._key(db, v, kind))


_backends: dict[str, object] = {}


def store_in_session(s, v: Version, kind: str, payload: bytes) -> None:
    """Store a packed result in the caller's transaction (database store only): visible exactly when
    the transaction that made version ``v`` commits (``data/commit_score.py``)."""
    same = (StoredResult.period_id == v.period_id, StoredResult.kind == kind)
    s.add(StoredResult(period_id=v.period_id, kind=kind, data_version=v.data_version,
                       table_version_id=v.table_version_id, payload=payload, created_at=utcnow()))
    s.flush()
    # Only the newest version is of use to anyone. This one may already be older: a worker storing the
    # version it computed in the background can finish after a commit stored the next one with its data.
    newest = select(func.max(StoredResult.data_version)).where(*same).scalar_subquery()
    s.execute(delete(StoredResult).where(*same, StoredResult.data_version < newest))


def _shared_key(v: Version, kind: str) -> tuple:
    """The in-process memory key of result ``kind`` of version ``v`` (its family is (kind, period))."""
    return (kind, v.period_id, v.data_version, v.table_version_id)


def remember(db: Database, v: Version, kind: str, value) -> None:
    """Put a result of version ``v`` in this process's memory, as ``shared`` would have after computing it."""
    _memory(db).put(_shared_key(v, kind), value, (kind, v.period_id))


def redis_url() -> str | None:
    try:
        from flask import current_app, has_app_context

        if has_app_context() and current_app.config.get("RESULTS_REDIS_URL"):
            return current_app.config["RESULTS_REDIS_URL"]
    except ImportError:  # pragma: no cover
        pass
    return os.environ.get("RESULTS_REDIS_URL") or None


def backend():
    url = redis_url()
    key = url or "db"
    if key not in _backends:
        _backends[key] = _RedisBackend(url) if url else _DatabaseBackend()
    return _backends[key]


_process_locks: dict[str, threading.Lock] = {}
_process_locks_lock = threading.Lock()


@contextlib.contextmanager
def _compute_lock(db: Database, v: Version, kind: str) -> Iterator[None]:
    """Only one worker computes a given version; the others wait, then load what it stored.

    A plain ``threading.Lock`` per key first (Database objects of one URL in one process: the file
    lock below is per process), then the cross-process lock. Both may be released by another
    thread: ``shared`` hands them to the thread that stores the result."""
    name = f"{db.url}|{v.period_id}|{kind}|{v.data_version}|{v.table_version_id}"
    with _process_locks_lock:
        local = _process_locks.setdefault(name, threading.Lock())
        if len(_process_locks) > 256:  # forget keys nobody holds (old versions)
            for k in [k for k, lk in _process_locks.items() if k != name and not lk.locked()]:
                del _process_locks[k]
    with local:
        with _cross_process_lock(db, name):
            yield


@contextlib.contextmanager
def _cross_process_lock(db: Database, name: str) -> Iterator[None]:
    if db.engine.dialect.name == "postgresql":
        k = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(%s)", (k,))
            try:
                yield
            finally:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (k,))
                conn.commit()
        return
    path = db.url.split("///", 1)[-1] if db.is_sqlite else ""
    if not path or path == ":memory:" or os.name != "posix":
        yield
        return
    import fcntl

    # One byte of a lock file beside the database per key (POSIX record locks: per process, so a
    # computation that needs another key's result — gaps need the score — never waits on itself).
    fd = _lock_fd(path + ".results.lock")
    offset = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % (1 << 30)
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, offset, os.SEEK_SET)
            break
        except OSError as e:
            # EDEADLK: the kernel sees two processes each holding a key the other waits for. Not a
            # real deadlock: keys are taken in one order (gaps, then the score they need), and a
            # key held by a process's storing thread is released without waiting for anything.
            if e.errno != errno.EDEADLK:
                raise
            time.sleep(0.02)
    try:
        yield
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset, os.SEEK_SET)


_lock_fds: dict[str, int] = {}
_lock_fds_lock = threading.Lock()


def _lock_fd(path: str) -> int:
    # Opened once per process and never closed: closing any descriptor of a file drops every
    # record lock the process holds on it.
    with _lock_fds_lock:
        if path not in _lock_fds:
            _lock_fds[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return _lock_fds[path]


def shared(db: Database, v: Version, kind: str, compute: Callable[[], object],
           encode: Callable[[object], bytes], decode: Callable[[bytes], object]):
    """The result ``kind`` of version ``v``: from memory, else the shared store, else computed once and stored."""
    key = _shared_key(v, kind)
    mem = _memory(db)
    hit, value = mem.get(key)
    if hit:
        STATS.add("memory_hits")
        return value
    with mem.key_lock(key):  # threads of one worker wait for each other
        hit, value = mem.get(key)
        if hit:
            STATS.add("memory_hits")
            return value
        store = backend()
        stored = _readable(store, db, v, kind, decode)
        if stored is None:
            with contextlib.ExitStack() as held:
                t0 = time.perf_counter()
                held.enter_context(_compute_lock(db, v, kind))
                _waits.seconds = getattr(_waits, "seconds", 0.0) + time.perf_counter() - t0
                stored = _readable(store, db, v, kind, decode)  # computed by another worker meanwhile
                if stored is None:
                    value = compute()
                    STATS.add("computed")
                    mem.put(key, value, (kind, v.period_id))
                    # The viewer does not wait for packing and writing (about 0.2 s at 10,000 units):
                    # a thread stores it and then releases the lock other workers wait on.
                    _store_in_background(held.pop_all(), store, db, v, kind, encode, value)
                    return value
        STATS.add("loaded")
        mem.put(key, stored.value, (kind, v.period_id))
        return stored.value


@dataclass
class _Decoded:
    value: object


def _readable(store, db: Database, v: Version, kind: str, decode: Callable[[bytes], object]) -> _Decoded | None:
    """The stored result decoded, or None when there is none, or none this code can read (a payload
    written in an older format by a previous release): it is discarded and computed again, so an
    upgrade never leaves a page failing on what an older release stored."""
    payload = store.get(db, v, kind)
    if payload is None:
        return None
    try:
        return _Decoded(decode(payload))
    except Exception:
        log.exception("stored result %s of period %s v%s cannot be read; computing it again",
                      kind, v.period_id, v.data_version)
        store.discard(db, v, kind)
        return None


_waits = threading.local()


def lock_wait_seconds(reset: bool = False) -> float:
    """Seconds this thread has waited for another worker's computation (``Server-Timing``); ``reset``
    starts the count again (at the start of a request)."""
    out = getattr(_waits, "seconds", 0.0)
    if reset:
        _waits.seconds = 0.0
    return out


_storing: set[threading.Thread] = set()
_storing_lock = threading.Lock()


def _store_in_background(release: contextlib.ExitStack, store, db: Database, v: Version, kind: str,
                         encode: Callable[[object], bytes], value) -> None:
    def run():
        try:
            store.put(db, v, kind, encode(value))
            STATS.add("stored")
        except Exception:  # not stored: the next worker to need it computes it again
            log.exception("storing result %s of period %s v%s failed", kind, v.period_id, v.data_version)
        finally:
            release.close()
            with _storing_lock:
                _storing.discard(thread)

    thread = threading.Thread(target=run, name=f"store-{kind}-{v.period_id}-{v.data_version}", daemon=True)
    with _storing_lock:  # started under the lock: ``wait_stored`` never sees a thread it cannot join yet
        _storing.add(thread)
        thread.start()


def wait_stored(timeout: float | None = 60) -> None:
    """Wait until every result this process computed is in the shared store (tests, benchmarks, CLI exit)."""
    with _storing_lock:
        threads = list(_storing)
    for t in threads:
        t.join(timeout)


atexit.register(wait_stored)  # a CLI command's result is stored before the process ends


def stored_versions(db: Database, period_code: str) -> list[tuple[str, int, int]]:
    """(kind, data_version, table_version_id) held in the database store for a period (tests, admin)."""
    wait_stored()
    with db.session() as s:
        return [tuple(r) for r in s.execute(
            select(StoredResult.kind, StoredResult.data_version, StoredResult.table_version_id)
            .join(Period, Period.id == StoredResult.period_id).where(Period.code == period_code)
            .order_by(StoredResult.kind, StoredResult.data_version)).all()]
