"""Write a notebook from a list of (kind, source) cells, outputs empty.

Usage from a recipe's own generator: ``write("fifo_ordered", [("md", "..."), ("code", "...")])``.
Notebooks are committed without outputs; ``tests/test_notebooks_clean.py`` checks it and
``make test`` executes every notebook with nbmake.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def write(name: str, cells: list[tuple[str, str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["execution"] = {"timeout": 120}
    for index, (kind, source) in enumerate(cells):
        maker = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        # Stable ids: regenerating an unchanged notebook gives an empty diff.
        nb.cells.append(maker(source.strip("\n"), id=f"{name}-{index}"))
    path = HERE / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path
