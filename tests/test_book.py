"""The Jupyter Book builds with warnings as errors and contains every chapter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    """Every document the table of contents lists, root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("parts", []) + entry.get("chapters", []) + entry.get("sections", []))

    walk(toc.get("parts", []) + toc.get("chapters", []))
    return files


def test_every_chapter_notebook_is_in_the_table_of_contents() -> None:
    listed = set(toc_files())
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"notebooks/{path.stem}" in listed, f"{path.name} is missing from _toc.yml"


@pytest.mark.slow
def test_book_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(tmp_path), "--warningiserror", "--nitpick"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    html = tmp_path / "_build" / "html"
    for name in toc_files():
        page = html / f"{name}.html"
        assert page.exists(), f"{page} was not built"
    assert "url=book/index.html" in (html / "index.html").read_text()
    assert "Who it is for" in (html / "book" / "index.html").read_text()
    for chapter in ("choosing", "flask", "fastapi"):
        page = (html / "notebooks" / f"{chapter}.html").read_text()
        assert 'class="backendlab-comparison"' in page, f"{chapter}: the chooser's static table is missing"
        assert "application/vnd.jupyter.widget-view+json" in page, f"{chapter}: the chooser widget state is missing"
