"""Background document jobs: progress, result, owner-only access, errors as messages."""
from __future__ import annotations

import time

from data import jobs
from data.permissions import Principal

OWNER = Principal(7, "inspector", "考核组", "inspector")
OTHER = Principal(8, "leader", "局领导", "leader")


def _wait(job_id, who=OWNER, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        st = jobs.status(who, job_id)
        if st and st["status"] != "running":
            return st
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_job_reports_progress_and_serves_its_file_to_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "JOB_DIR", tmp_path)
    seen = []

    def build(progress):
        for k in range(1, 4):
            progress(k, 3)
            seen.append(jobs.status(OWNER, job_id)["done"] if job_id else None)
            time.sleep(0.35)
        return "反馈单.zip", b"PK-data"

    job_id = None
    job_id = jobs.start(OWNER, "反馈单压缩包", build)
    st = _wait(job_id)
    assert st["status"] == "done" and st["name"] == "反馈单.zip"
    assert max(d for d in seen if d is not None) >= 2  # progress was visible while it ran
    assert jobs.result(OWNER, job_id) == ("反馈单.zip", b"PK-data")
    assert jobs.status(OTHER, job_id) is None and jobs.result(OTHER, job_id) is None
    assert jobs.status(OWNER, "../../etc/passwd") is None and jobs.status(OWNER, ["x"]) is None


def test_job_errors_become_messages(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "JOB_DIR", tmp_path)

    def user_error(progress):
        raise ValueError("没有可查看的「某局」单位")

    def bug(progress):
        raise ZeroDivisionError

    a = jobs.start(OWNER, "x", user_error, user_errors=(ValueError,))
    b = jobs.start(OWNER, "x", bug, user_errors=(ValueError,))
    assert _wait(a)["message"] == "没有可查看的「某局」单位"
    st = _wait(b)
    assert st["status"] == "error" and "ZeroDivision" not in st["message"] and "出错" in st["message"]
    assert jobs.result(OWNER, a) is None
