"""Documents that take longer than a click: run in a background thread, with progress the page can poll.

A job's state (owner, done/total, status, file name) is a small JSON file and its result a
file, both in one directory under the system temp dir, so any gunicorn worker on the
machine can answer the page's polling and serve the download. Only the user who started a
job can see or download it; jobs older than ``KEEP_S`` are removed.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from data.permissions import Principal

JOB_DIR = Path(os.environ.get("DANGJIAN_JOB_DIR") or Path(tempfile.gettempdir()) / "dangjian-jobs")
KEEP_S = 3600
_ID = re.compile(r"^[0-9a-f]{32}$")
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dangjian-job")
log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


def _state_path(job_id: str) -> Path:
    return JOB_DIR / f"{job_id}.json"


def _write(job_id: str, state: dict) -> None:
    tmp = JOB_DIR / f"{job_id}.json.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    tmp.replace(_state_path(job_id))  # atomic: a poll never reads half a file


def _cleanup() -> None:
    now = time.time()
    for p in JOB_DIR.glob("*"):
        try:
            if now - p.stat().st_mtime > KEEP_S:
                p.unlink()
        except OSError:
            pass


def start(principal: Principal, label: str, build: Callable[[Progress], tuple[str, bytes]],
          user_errors: tuple[type[Exception], ...] = ()) -> str:
    """Run ``build(progress)`` in the background; returns the job id the page polls."""
    JOB_DIR.mkdir(parents=True, exist_ok=True)
    _cleanup()
    job_id = secrets.token_hex(16)
    state = {"owner": principal.id, "label": label, "status": "running", "done": 0, "total": 0,
             "started": time.time(), "name": None, "message": ""}
    _write(job_id, state)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.3 or done >= total:
            last[0] = now
            _write(job_id, {**state, "done": int(done), "total": int(total)})

    def run() -> None:
        try:
            name, data = build(progress)
            (JOB_DIR / f"{job_id}.bin").write_bytes(data)
            _write(job_id, {**state, "status": "done", "name": name, "done": 1, "total": 1})
        except user_errors as exc:
            _write(job_id, {**state, "status": "error", "message": str(exc)})
        except Exception:  # a bug or an infrastructure fault: logged, the user gets a plain message
            log.exception("document job %s failed", job_id)
            _write(job_id, {**state, "status": "error", "message": "生成文件时出错，已记录，请稍后重试或联系管理员"})

    _pool.submit(run)
    return job_id


def status(principal: Principal, job_id) -> dict | None:
    """The job's state for its owner; None for anyone else or an unknown / malformed id."""
    if not isinstance(job_id, str) or not _ID.match(job_id):
        return None
    try:
        state = json.loads(_state_path(job_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return state if state.get("owner") == principal.id else None


def result(principal: Principal, job_id) -> tuple[str, bytes] | None:
    state = status(principal, job_id)
    if not state or state.get("status") != "done":
        return None
    try:
        return state["name"], (JOB_DIR / f"{job_id}.bin").read_bytes()
    except OSError:
        return None
