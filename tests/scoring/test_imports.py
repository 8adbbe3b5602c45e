"""``scoring/`` stays pure: it imports nothing from the database, web or app layers."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCORING = ROOT / "scoring"
FORBIDDEN = ("sqlalchemy", "flask", "dash", "data", "pages", "components", "alembic", "werkzeug", "app", "auth",
             "cli")
MODULES = sorted(p.stem for p in SCORING.glob("*.py") if p.stem != "__init__")


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_the_modules_the_brief_names_exist():
    assert {"engine", "rules", "indicators", "glossary", "gaps", "candidates", "whatif"} <= set(MODULES)


@pytest.mark.parametrize("path", sorted(SCORING.glob("*.py")), ids=lambda p: p.name)
def test_scoring_source_imports_nothing_forbidden(path):
    bad = sorted(n for n in imported_names(path) if n.split(".")[0] in FORBIDDEN)
    assert bad == [], f"{path.name} imports {bad}"


def test_importing_scoring_loads_nothing_forbidden():
    code = (
        "import importlib, json, sys\n"
        f"for m in {MODULES!r}:\n"
        "    importlib.import_module('scoring.' + m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    bad = sorted(m for m in loaded if m.split(".")[0] in FORBIDDEN)
    assert bad == []
    assert "scoring.whatif" in loaded and "pandas" in loaded
