"""Looking at submitted notebooks before nbgrader does: what is missing, broken or altered.

nbgrader stops a whole submission, with advice meant for instructors ("nbgrader update"), on
notebooks a student can easily produce: a copied cell (two cells with one ``grade_id``), a cell
whose nbgrader metadata was damaged, a deleted test cell. Here each such notebook is repaired
where that cannot change a score (the instructor's cells are put back, copies become ordinary
cells) or set aside with a reason a student understands, and every step becomes a note.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

__all__ = ["check_notebooks"]

# The grading flags of a cell; a student may not change them.
FLAGS = ("grade", "solution", "locked", "points", "schema_version")


def _locked_cells(notebook: nbformat.NotebookNode) -> list[tuple[str, nbformat.NotebookNode]]:
    return [
        (cell.metadata["nbgrader"]["grade_id"], cell)
        for cell in notebook.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("locked") and cell.metadata["nbgrader"].get("grade_id")
    ]


def _grade_id(cell: nbformat.NotebookNode) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta.get("grade_id") if isinstance(meta, dict) else None


def _repair_metadata(name: str, notebook: nbformat.NotebookNode, reference: nbformat.NotebookNode) -> list[str]:
    """Give copied and damaged nbgrader cells a form nbgrader accepts; return notes."""
    notes = []
    known = {_grade_id(cell): cell for cell in reference.cells if _grade_id(cell)}
    seen: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        where = f"{name}.ipynb, cell {index + 1}"
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            notes.append(f"{where} is a copy of cell {grade_id} (two cells had that grade_id); "
                         "the copy was run as an ordinary cell and the first one graded")
            continue
        if grade_id in known:
            original = known[grade_id]["metadata"]["nbgrader"]
            if any(meta.get(flag) != original.get(flag) for flag in FLAGS):
                # Damaged or altered flags (points, locked, grade...): the instructor's metadata is what counts.
                cell.metadata["nbgrader"] = copy.deepcopy(original)
                notes.append(f"{where}: the grading metadata of {grade_id} was altered; the instructor's was used")
            seen.add(grade_id)
            continue
        del cell.metadata["nbgrader"]
        what = f"an unknown grade_id {grade_id!r}" if grade_id else "damaged grading metadata"
        notes.append(f"{where} had {what}; it was run as an ordinary cell")
    return notes


def check_notebooks(submitted: Path, release: Path) -> list[str]:
    """Check and repair the notebooks in ``submitted`` against ``release``; return notes for the report.

    * An unreadable notebook is moved aside, so nbgrader scores it 0 as missing instead of
      failing the whole submission.
    * Copied cells (a second cell with a ``grade_id`` already used) become ordinary cells; cells
      with damaged or unknown grading metadata too; altered metadata of a known cell (its points,
      say) is replaced by the instructor's.
    * A deleted read-only cell (test cells included) is put back from the released notebook,
      after the cell that precedes it there; nbgrader then restores its full source, hidden tests
      included, as for any edited read-only cell. (nbgrader's own ``add_missing_cells`` fails
      with a KeyError when the cell before the deleted one is not a graded or solution cell.)
    * Edited read-only cells are reported (nbgrader runs the instructor's version anyway).
    """
    from nbgrader import utils

    notes = []
    expected = sorted(p.stem for p in release.glob("*.ipynb"))
    for name in sorted(p.stem for p in submitted.glob("*.ipynb")):
        if name not in expected:
            notes.append(f"{name}.ipynb is not part of the assignment and was not graded")
    for name in expected:
        path = submitted / f"{name}.ipynb"
        if not path.exists():
            notes.append(f"{name}.ipynb was not submitted: 0 points for it")
            continue
        try:
            notebook = nbformat.read(path, as_version=4)
            if not isinstance(notebook.get("cells"), list):
                raise ValueError("it has no list of cells")
            for cell in notebook.cells:
                if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
                    raise ValueError("a cell is not a notebook cell")
                cell.setdefault("metadata", nbformat.NotebookNode())
                if not isinstance(cell.get("source"), str):
                    raise ValueError("a cell has no source text")
        except Exception as exc:  # JSON errors, wrong structure, wrong format version
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            path.rename(path.with_name(path.name + ".unreadable"))
            notes.append(f"{name}.ipynb is not a readable notebook ({message[:160]}): 0 points for it")
            continue
        reference = nbformat.read(release / f"{name}.ipynb", as_version=4)
        repairs = _repair_metadata(name, notebook, reference)
        notes.extend(repairs)
        originals = _locked_cells(reference)
        present = {}
        for cell in notebook.cells:
            grade_id = _grade_id(cell)
            if grade_id and grade_id not in present:
                present[grade_id] = cell
        restored = False
        for position, (grade_id, original) in enumerate(originals):
            what = "test cell" if utils.is_grade(original) else "read-only cell"
            if grade_id in present:
                try:
                    changed = utils.compute_checksum(present[grade_id]) != utils.compute_checksum(original)
                except Exception:
                    changed = True
                if changed and original.cell_type == "code":
                    notes.append(f"{name}.ipynb: {what} {grade_id} was edited; the instructor's version was run")
                continue
            index = 0
            for previous_id, _ in reversed(originals[:position]):
                if previous_id in present:
                    index = notebook.cells.index(present[previous_id]) + 1
                    break
            notebook.cells.insert(index, copy.deepcopy(original))
            present[grade_id] = notebook.cells[index]
            restored = True
            if original.cell_type == "code":
                run = "put back and run" if what == "test cell" else "put back"
                notes.append(f"{name}.ipynb: {what} {grade_id} was deleted; the instructor's copy was {run}")
        if restored or repairs:
            nbformat.write(notebook, path)
    return notes
