"""Static checks that catch real bugs (undefined names, unused imports, syntax errors) in every package."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pyflakes_rules_pass_on_the_whole_tree():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "F,E9", "--exclude", ".venv",
                          "--no-cache", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
