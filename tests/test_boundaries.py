"""Import rules of STYLE.md outside scoring/: components are pure layout, pages never build SQL."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = {
    "components": ("data", "scoring", "sqlalchemy", "flask", "pages"),
    "pages": ("sqlalchemy",),
    "data": ("dash", "pages", "components"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_respect_the_layering(package):
    bad = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        hits = _imports(path) & set(RULES[package])
        if hits:
            bad[str(path.relative_to(ROOT))] = sorted(hits)
    assert bad == {}, f"{package} must not import {RULES[package]}: {bad}"
