"""The lab must not share code with what it measures (DESIGN.md, dependency rules)."""

from __future__ import annotations

import ast
from pathlib import Path

import lumatune.lab

FORBIDDEN = ("lumatune.stages", "lumatune.pipeline", "lumatune.colour")


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_lab_imports_no_stage_pipeline_or_colour_module():
    folder = Path(lumatune.lab.__file__).parent
    offending = {
        f"{path.name}: {name}"
        for path in folder.glob("*.py")
        for name in _imported_modules(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    }
    assert not offending
