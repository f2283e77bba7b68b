"""generate: ``solutions/`` -> ``exercises/`` with nbgrader, reproducibly; check that they agree."""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import nbformat

from backendlab.grading.course import (
    Course,
    ensure_tools_on_path,
    explain_nbgrader_failure,
    nbgrader_log,
    use_fast_alembic_version,
)
from backendlab.notebook_runner import KERNELSPEC


def normalise_notebook_file(path: Path) -> None:
    """Rewrite a generated notebook canonically: no outputs, fixed metadata, sorted keys, final newline."""
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata = nbformat.NotebookNode(
        kernelspec=dict(KERNELSPEC), language_info={"name": notebook.metadata.get("language_info", {}).get(
            "name", "python")}
    )
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    text = nbformat.writes(notebook, version=4)
    path.write_bytes((text if text.endswith("\n") else text + "\n").encode("utf-8"))


def normalise_release(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_dir() and path.name in (".ipynb_checkpoints", "__pycache__"):
            shutil.rmtree(path, ignore_errors=True)
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            if path.suffix == ".ipynb":
                path.chmod(0o644)
                normalise_notebook_file(path)
            path.chmod(0o644)


def generate(
    course: Course,
    *,
    release: Path | None = None,
    db_url: str | None = None,
    assignments: Iterable[str] | None = None,
    prune: bool = True,
    echo: bool = True,
) -> list[Path]:
    """Generate the student version of each assignment; return the folders written.

    ``release`` and ``db_url`` default to the course's (``exercises/``, ``gradebook.db``); pass
    others to generate somewhere else without touching the course. With ``prune``, release
    folders that have no source any more are removed, so the release is exactly the output.
    """
    from nbgrader.converters import GenerateAssignment

    ensure_tools_on_path()
    use_fast_alembic_version()
    release = Path(release or course.release).resolve()
    chosen = list(assignments) if assignments is not None else course.assignments()
    written = []
    for assignment in chosen:
        coursedir = course.coursedir(release=release, db_url=db_url)
        coursedir.assignment_id = assignment
        converter = GenerateAssignment(coursedir=coursedir, config=course.config)
        converter.force = True
        with nbgrader_log(echo=echo) as records:
            try:
                converter.start()
            except Exception as exc:
                raise RuntimeError(
                    f"nbgrader generate_assignment failed for {assignment}: {explain_nbgrader_failure(records, exc)}"
                ) from exc
        normalise_release(release / assignment)
        written.append(release / assignment)
    if prune and assignments is None and release.is_dir():
        for stale in sorted(p for p in release.iterdir() if p.is_dir() and p.name not in chosen):
            shutil.rmtree(stale)
            if echo:
                print(f"removed {stale} (no source for it any more)")
    return written


def compare_trees(expected: Path, actual: Path) -> list[str]:
    """Relative paths that differ between two folders (missing, extra or different bytes)."""
    def files(root: Path) -> set[str]:
        if not root.is_dir():
            return set()
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    want, have = files(expected), files(actual)
    differences = [f"missing: {name}" for name in sorted(want - have)]
    differences += [f"unexpected: {name}" for name in sorted(have - want)]
    differences += [
        f"differs: {name}" for name in sorted(want & have)
        if not filecmp.cmp(expected / name, actual / name, shallow=False)
    ]
    return differences


def check_exercises(course: Course) -> list[str]:
    """Regenerate into a temporary folder and list how the course's release differs from it."""
    with tempfile.TemporaryDirectory(prefix="backendlab-check-") as tmp:
        fresh = Path(tmp) / "release"
        generate(course, release=fresh, db_url=f"sqlite:///{Path(tmp) / 'gradebook.db'}", echo=False)
        return compare_trees(fresh, course.release)


