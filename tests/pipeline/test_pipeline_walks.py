"""Every walk over the stages goes through :mod:`lumatune.pipeline`: no module outside it loops over the order
table or the stage registry, or keeps its own list of stage names in order (DESIGN.md, "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import lumatune
from lumatune.pipeline import ORDER
from lumatune.stages.registry import STAGES

SOURCE = Path(lumatune.__file__).parent
ALLOWED = (SOURCE / "pipeline", SOURCE / "stages" / "registry.py")
"""The pipeline package walks the table; the registry builds (and filters) itself."""
ORDER_LIKE = 3
"""Stage names in one literal sequence from which it reads as a copy of the order (two can be a selection)."""


def _names(node: ast.AST) -> set[str]:
    return {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node) if isinstance(n, ast.Name | ast.Attribute)}


def _walked(tree: ast.AST) -> list[int]:
    """Lines where a loop or comprehension iterates over the table or the registry."""
    loops = [n.iter for n in ast.walk(tree) if isinstance(n, ast.For | ast.comprehension)]
    return [node.lineno for node in loops if {"ORDER", "STAGES"} & _names(node)]


def _order_copies(tree: ast.AST) -> list[int]:
    """Lines of literal tuples or lists of stage names long enough to be an order."""
    stages = set(STAGES)
    copies = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List) and len(node.elts) >= ORDER_LIKE:
            values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if len(values) == len(node.elts) and set(values) <= stages:
                copies.append(node.lineno)
    return copies


def _outside_pipeline():
    for path in sorted(SOURCE.rglob("*.py")):
        if not any(path == allowed or allowed in path.parents for allowed in ALLOWED):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_no_module_outside_the_pipeline_walks_the_table():
    walks = [f"{path.relative_to(SOURCE)}:{line}" for path, tree in _outside_pipeline() for line in _walked(tree)]
    assert not walks, walks


def test_no_module_outside_the_pipeline_keeps_a_copy_of_the_order():
    copies = [f"{path.relative_to(SOURCE)}:{line}" for path, tree in _outside_pipeline() for line in _order_copies(tree)]
    assert not copies, copies


def test_the_check_sees_a_walk_and_a_copy():
    walk = ast.parse("for entry in ORDER:\n    pass\nnames = [e.stage.name for e in pipeline.ORDER]")
    copy = ast.parse('STEPS = ("exposure", "colour", "tone")')
    assert _walked(walk) == [1, 3] and _order_copies(copy) == [1]


def test_the_order_and_the_registry_hold_the_same_stages():
    assert [entry.name for entry in ORDER] == list(dict.fromkeys(entry.name for entry in ORDER))
    assert {entry.name for entry in ORDER} == set(STAGES)
    assert all(STAGES[entry.name] is entry.stage for entry in ORDER)
