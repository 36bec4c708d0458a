"""The docs site builds strictly (every snippet path exists) and notebooks carry no outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RECIPES = sorted(p.parent.name for p in (ROOT / "recipes").glob("*/__init__.py")
                 if p.parent.name != "recipes")


def test_mkdocs_builds_strict(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                             "-d", str(tmp_path / "site")], cwd=ROOT, capture_output=True,
                            text=True, env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("recipe", RECIPES)
def test_every_recipe_has_readme_docs_page_and_notebook(recipe: str) -> None:
    assert (ROOT / "recipes" / recipe / "README.md").exists()
    page = ROOT / "docs" / "recipes" / f"{recipe}.md"
    assert page.exists(), f"docs/recipes/{recipe}.md missing"
    assert f'--8<-- "recipes/{recipe}/' in page.read_text(), "page must include the real files"
    assert (ROOT / "notebooks" / f"{recipe}.ipynb").exists()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(notebook: Path) -> None:
    data = json.loads(notebook.read_text())
    for cell in data["cells"]:
        assert not cell.get("outputs"), f"{notebook.name} has outputs: clear them"
        assert cell.get("execution_count") is None
