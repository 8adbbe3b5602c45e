"""Peak memory of one app process serving every page at N units (what one gunicorn worker holds).

Run as its own process (``python -m benchmarks.worker_rss N``) so nothing else the benchmark suite
loaded is counted; prints the peak RSS in bytes on the last line.
"""
from __future__ import annotations

import resource
import sys


def peak_rss() -> int:
    """Peak RSS of this process in bytes: VmHWM, which starts afresh at exec. Not ``ru_maxrss``: Linux
    keeps that across execve, so a child started by a big benchmark process reported the parent's peak."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> int:
    from app import use_database
    from benchmarks import bench_pages as bp
    from data import services

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    app = bp.make_app()
    db = bp.database(n)
    use_database(app, db)
    res = services.score_period(bp.PERIOD, db)
    unit = res.units["unit"].iloc[len(res.units) // 2]
    clients = {}
    for _label, user, path, search in bp.pages(n):
        client = clients.get(user) or clients.setdefault(user, bp.login(app, user))
        bp.post(client, bp.router_payload(app, path.format(unit=unit), search))
    bp.post(clients["leader"], bp.whatif_payload(app, bp.PERIOD, "优秀", 95))
    print(peak_rss())
    return 0


if __name__ == "__main__":
    sys.exit(main())
