"""HTTP transfer: compressed responses and long cache lifetimes for fingerprinted assets.

``init_http(server)`` runs before Dash is built (Dash's ``compress=True`` then installs
flask-compress with this configuration). It owns:

- the compression algorithms (brotli, then gzip) and a small in-process cache of the compressed
  bytes of Dash's component files, so a first visit does not re-compress 3 MB of JavaScript per
  user (the app's own /assets/ are streamed from disk and compressed on the fly: 0.25 MB);
- ``Cache-Control`` for the app's own ``/assets/`` files: Dash links them as ``…?m=<mtime>``, so a
  changed file gets a new URL and the old one may be cached for a year (Dash already does the same
  for its fingerprinted ``/_dash-component-suites/`` files).

Dynamic responses (pages, callbacks, downloads) are compressed but never cached here.
"""
from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict

from flask import Flask, g, request

ONE_YEAR = 31_536_000
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")


class StaticCompressCache:
    """flask-compress's cache backend, keeping only static files' compressed bytes (bounded LRU)."""

    def __init__(self, max_entries: int = 256):
        self._data: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    @staticmethod
    def _static(key: str) -> bool:
        path = key.split(";", 1)[-1]
        return path.startswith(STATIC_PREFIXES)

    def get(self, key: str):
        if not self._static(key):
            return None
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if not self._static(key):
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._max:
                self._data.popitem(last=False)


def _cache_key(req) -> str:
    # Path and query: a fingerprinted file's URL changes with its content.
    return req.full_path


def init_http(server: Flask) -> None:
    server.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    server.config.setdefault("COMPRESS_BR_LEVEL", 4)
    server.config.setdefault("COMPRESS_LEVEL", 6)
    cache = StaticCompressCache()
    server.config.setdefault("COMPRESS_CACHE_BACKEND", lambda: cache)
    server.config.setdefault("COMPRESS_CACHE_KEY", _cache_key)

    if os.environ.get("SERVER_TIMING_CPU") == "1":
        _server_timing(server)

    @server.after_request
    def _asset_cache_headers(response):
        if request.path.startswith("/assets/") and request.args.get("m") and response.status_code == 200:
            response.cache_control.public = True
            response.cache_control.max_age = ONE_YEAR
            response.cache_control.immutable = True
        elif request.path.startswith("/_dash-component-suites/") and response.cache_control.max_age:
            response.cache_control.public = True
            response.cache_control.immutable = True
        return response


def _server_timing(server: Flask) -> None:
    """``Server-Timing: cpu;dur=<ms>,wait;dur=<ms>`` on every response: the process CPU time the request
    used, and the time it waited for another worker computing a result it needed, for
    `make loadtest` (gunicorn's sync workers run one request at a time, so the process's CPU time
    is the request's; the load test logs it per request). Registered before flask-compress, so its
    after_request runs last and the compression is counted too. Off unless SERVER_TIMING_CPU=1."""
    from data import results_store

    @server.before_request
    def _cpu_start():
        g._cpu_start = time.process_time()
        results_store.lock_wait_seconds(reset=True)

    @server.after_request
    def _cpu_header(response):
        start = g.get("_cpu_start")
        if start is not None:
            # No space after the comma: the load test reads the header from gunicorn's access log,
            # whose fields are separated by spaces.
            response.headers["Server-Timing"] = (f"cpu;dur={(time.process_time() - start) * 1000:.1f},"
                                                 f"wait;dur={results_store.lock_wait_seconds() * 1000:.1f}")
        return response
