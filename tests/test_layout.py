"""Recipes stay copyable: no sibling or tooling imports; common/ imports only common/."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECIPES = sorted(p.parent.name for p in (ROOT / "recipes").glob("*/__init__.py")
                 if p.parent.name != "recipes")
ALLOWED_COMMON_DEPS = {"dramatiq", "redis", "pydantic", "pydantic_settings", "__future__"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_imports_no_sibling_and_no_tooling(recipe: str) -> None:
    for path in (ROOT / "recipes" / recipe).rglob("*.py"):
        for module in _imports(path):
            assert not module.startswith("cookbook"), f"{path} imports tooling {module}"
            if module.startswith("recipes."):
                assert module.split(".")[1] == recipe, f"{path} imports sibling {module}"


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_modules_import_cleanly(recipe: str) -> None:
    for path in sorted((ROOT / "recipes" / recipe).glob("*.py")):
        if path.stem in {"worker", "__main__"}:
            continue  # worker modules build a broker from the environment at import
        importlib.import_module(f"recipes.{recipe}.{path.stem}" if path.stem != "__init__"
                                else f"recipes.{recipe}")


@pytest.mark.parametrize("path", sorted((ROOT / "common").glob("*.py")), ids=lambda p: p.name)
def test_common_modules_need_only_stdlib_dramatiq_redis_pydantic(path: Path) -> None:
    import sys

    for module in _imports(path):
        top = module.split(".")[0]
        assert top in ALLOWED_COMMON_DEPS or top == "common" or top in sys.stdlib_module_names, (
            f"{path.name} imports {module}")
