"""The Jupyter Book builds with warnings as errors and contains every chapter."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backendlab.book_config import book_config, build_book

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
    result = build_book(tmp_path)  # as make book does, with this machine's environment
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
        assert 'class="backendlab-chooser"' in page and "backendlab-chooser-data" in page, (
            f"{chapter}: the chooser (its form and its exported scoring table) is missing"
        )


def test_book_links_follow_the_repository_it_is_built_from() -> None:
    config = book_config({"GITHUB_REPOSITORY": "ada/backend-lab", "GITHUB_REF_NAME": "spring"})
    assert config["repository"] == {"url": "https://github.com/ada/backend-lab", "branch": "spring"}
    assert "jupyterhub_url" not in config["launch_buttons"], "a JupyterHub button without a hub"
    assert "github.com/ada/backend-lab" in config["parse"]["myst_substitutions"]["repository_link"]
    mine = book_config({"GITHUB_REPOSITORY": "ada/backend-lab", "BOOK_REPOSITORY": "bob/course",
                        "BOOK_JUPYTERHUB_URL": "https://hub.school.edu"})
    assert mine["repository"]["url"] == "https://github.com/bob/course"
    assert mine["launch_buttons"]["jupyterhub_url"] == "https://hub.school.edu"


def test_a_book_without_a_github_repository_links_to_none(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    config = book_config({}, root=tmp_path)
    assert "repository" not in config and not config["html"]["use_repository_button"]
    assert "binderhub_url" not in config["launch_buttons"] and not config["launch_buttons"]["thebe"]
    with pytest.raises(ValueError, match="owner/name"):
        book_config({"BOOK_REPOSITORY": "https://github.com/a/b"}, root=tmp_path)
