"""``cookbook copy <recipe> <dest>``: copy a recipe folder plus the ``common/`` files it names."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
IMPORT_RE = re.compile(r"^\s*(?:from common\.(\w+) import|import common\.(\w+))", re.M)


def common_modules(recipe_dir: Path) -> set[str]:
    """Every ``common.<module>`` imported by the recipe, followed transitively."""
    pending = {m for f in recipe_dir.glob("*.py") for m in _imports(f)}
    seen: set[str] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        pending |= _imports(ROOT / "common" / f"{module}.py")
    return seen


def _imports(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {a or b for a, b in IMPORT_RE.findall(path.read_text())}


@click.command("copy")
@click.argument("recipe")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def copy_recipe(recipe: str, dest: Path) -> None:
    """Copy recipes/RECIPE and its common/ modules under DEST (imports keep working)."""
    source = ROOT / "recipes" / recipe
    if not (source / "__init__.py").exists():
        known = sorted(p.name for p in (ROOT / "recipes").iterdir() if (p / "__init__.py").exists())
        raise click.ClickException(f"no recipe {recipe!r}; known: {', '.join(known)}")
    shutil.copytree(source, dest / "recipes" / recipe, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "recipes" / "__init__.py").touch()
    (dest / "common").mkdir(parents=True, exist_ok=True)
    (dest / "common" / "__init__.py").touch()
    modules = sorted(common_modules(source))
    for module in modules:
        shutil.copy2(ROOT / "common" / f"{module}.py", dest / "common" / f"{module}.py")
    click.echo(f"copied recipes/{recipe} and common/{{{','.join(modules)}}}.py to {dest}")
