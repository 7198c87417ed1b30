"""training/ never reaches evaluation/: evaluation measures generators through training's callbacks."""

from __future__ import annotations

import ast
from pathlib import Path

import dermgan

PACKAGE = Path(dermgan.__file__).parent


def _module_file(name: str) -> Path | None:
    """The file of a dermgan module (a package's __init__.py), None for anything outside dermgan."""
    if name != "dermgan" and not name.startswith("dermgan."):
        return None
    path = PACKAGE.joinpath(*name.split(".")[1:])
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def _imports(path: Path) -> set[str]:
    """Every dermgan module named by an import anywhere in the file, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if _module_file(name) is not None}


def reached_from(start: list[str]) -> dict[str, str]:
    """Each dermgan module imported, directly or through others, by the `start` modules -> who imports it."""
    seen = {name: "" for name in start}
    queue = list(start)
    while queue:
        name = queue.pop()
        for imported in _imports(_module_file(name)):
            if imported not in seen:
                seen[imported] = name
                queue.append(imported)
    return seen


def test_no_training_module_imports_evaluation_directly_or_through_another():
    training = [f"dermgan.training.{path.stem}" for path in sorted((PACKAGE / "training").glob("*.py"))]
    assert "dermgan.training.trainer" in training and "dermgan.training.callbacks" in training
    reached = reached_from(training)
    offending = {name: by for name, by in reached.items() if name.startswith("dermgan.evaluation")}
    assert not offending, f"imported by training (module: importer): {offending}"
