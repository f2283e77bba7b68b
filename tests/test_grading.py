"""The grader (backendlab.grading).

* exercises/ is exactly what ``generate`` writes from solutions/;
* the solution notebooks follow the course's cell format;
* one batch of the robustness corpus (tests/grading_corpus): the solutions score full marks and
  run clean, the unmodified exercises score 0, every broken submission gets its expected score or a
  clear reason, nothing hangs beyond the configured timeouts, and nobody else's grade changes;
* the hard per-submission limit kills the worker and its kernels.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import nbformat
import psutil
import pytest
from grading_corpus import ASSIGNMENT, MAX_SCORE, Case, build, build_idioms, hidden_test_lines

from backendlab import grading
from backendlab.grading import Course, GradingOptions, Result
from backendlab.grading.feedback import hidden_lines_in

ROOT = Path(__file__).resolve().parents[1]

# Short timeouts keep the corpus fast; they are still generous for a loaded 2-core machine (the
# longest legitimate test cell takes about 2 s there).
CELL_TIMEOUT = 12
INTERRUPT_GRACE = 3.0
SUBMISSION_TIMEOUT = 150.0
JOBS = 4


# ---------------------------------------------------------------------------------------------
# Helpers and small units
# ---------------------------------------------------------------------------------------------

def make_course(folder: Path) -> Course:
    """A copy of the course's grading inputs in ``folder``, with exercises generated."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", folder / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions", folder / "solutions")
    course = Course.load(folder)
    grading.generate(course, echo=False)
    return course


def test_relative_sqlite_urls_become_absolute(tmp_path: Path) -> None:
    assert grading.absolute_db_url("sqlite:///gradebook.db", tmp_path) == f"sqlite:///{tmp_path / 'gradebook.db'}"
    assert grading.absolute_db_url("sqlite:////abs/gb.db", tmp_path) == "sqlite:////abs/gb.db"
    assert grading.absolute_db_url("postgresql://host/db", tmp_path) == "postgresql://host/db"


def test_course_reads_nbgrader_config() -> None:
    course = Course.load(ROOT)
    assert course.source == ROOT / "solutions" and course.release == ROOT / "exercises"
    assert course.submitted == ROOT / "submitted" and course.db_url == f"sqlite:///{ROOT / 'gradebook.db'}"
    assert course.cell_timeout == 60
    assert ASSIGNMENT in course.assignments()


def test_compare_trees(tmp_path: Path) -> None:
    (tmp_path / "a" / "x").mkdir(parents=True)
    (tmp_path / "b" / "x").mkdir(parents=True)
    (tmp_path / "a" / "x" / "same.txt").write_text("1")
    (tmp_path / "b" / "x" / "same.txt").write_text("1")
    (tmp_path / "a" / "changed.txt").write_text("1")
    (tmp_path / "b" / "changed.txt").write_text("2")
    (tmp_path / "a" / "gone.txt").write_text("1")
    (tmp_path / "b" / "new.txt").write_text("1")
    assert grading.compare_trees(tmp_path / "a", tmp_path / "b") == [
        "missing: gone.txt", "unexpected: new.txt", "differs: changed.txt",
    ]


def test_discover_submissions_sorted_and_filtered(tmp_path: Path) -> None:
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    for student, assignment in [("bob", "a2"), ("alice", "a1"), ("bob", "a1"), (".hidden", "a1")]:
        (tmp_path / "submitted" / student / assignment).mkdir(parents=True)
    course = Course.load(tmp_path)
    found = [(s.student, s.assignment) for s in grading.discover_submissions(course)]
    assert found == [("alice", "a1"), ("bob", "a1"), ("bob", "a2")]
    assert [(s.student, s.assignment) for s in grading.discover_submissions(course, students=["bob"],
                                                                           assignments=["a2"])] == [("bob", "a2")]


def test_result_survives_json() -> None:
    result = Result("s", "a", "graded", score=3.0, max_score=10.0, notes=["n"], notebooks={"x": {"score": 3.0}})
    assert Result.from_json(json.loads(json.dumps({"token": "t", **result.to_json()}))) == result


def test_kill_process_tree_reaches_other_sessions() -> None:
    """Kernels run in sessions of their own: killing the worker's group alone would miss them."""
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    grading.kill_process_tree(parent.pid)
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while True:
        try:
            if psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        assert time.monotonic() < deadline, "the grandchild in its own session survived"
        time.sleep(0.05)


def test_check_notebooks_reports_edits_deletions_and_unreadable_files(tmp_path: Path) -> None:
    release = ROOT / "exercises" / ASSIGNMENT
    submitted = tmp_path / "submitted"
    submitted.mkdir()
    notebook = nbformat.read(release / "flask.ipynb", as_version=4)
    notebook.cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test-flask-read"]
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test-flask-create":
            cell.source = "pass"
    nbformat.write(notebook, submitted / "flask.ipynb")
    (submitted / "fastapi.ipynb").write_text('{"cells": [')
    (submitted / "extra.ipynb").write_text("{}")
    notes = grading.check_notebooks(submitted, release)
    assert "flask.ipynb: test cell test-flask-read was deleted; the instructor's copy was put back and run" in notes
    assert "flask.ipynb: test cell test-flask-create was edited; the instructor's version was run" in notes
    assert any(n.startswith("fastapi.ipynb is not a readable notebook") for n in notes), notes
    assert "extra.ipynb is not part of the assignment and was not graded" in notes
    assert not (submitted / "fastapi.ipynb").exists(), "an unreadable notebook is moved aside for nbgrader"
    repaired = nbformat.read(submitted / "flask.ipynb", as_version=4)
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in repaired.cells]
    reference = [c.metadata.get("nbgrader", {}).get("grade_id")
                 for c in nbformat.read(release / "flask.ipynb", as_version=4).cells]
    assert order == reference, "the deleted test cell is back in its place"


# ---------------------------------------------------------------------------------------------
# The format of solution notebooks (what the instructor guide documents)
# ---------------------------------------------------------------------------------------------

def solution_notebooks() -> list[Path]:
    return sorted((ROOT / "solutions").glob("*/*.ipynb"))


def check_test_cell(where: str, source: str) -> None:
    """What every test cell must do: see the instructor guide, "How to add an exercise"."""
    tree = ast.parse(source)
    assert "from backendlab import serve" in source and "with serve(" in source, f"{where}: serve apps in with-blocks"
    assert ".stop()" not in source, f"{where}: stop servers with a with-block, so they stop on failure too"
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            assert node.msg is not None, f"{where}, line {node.lineno}: every assert needs a message"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "requests":
                keywords = {k.arg for k in node.keywords}
                assert "timeout" in keywords, f"{where}, line {node.lineno}: every request needs timeout="
    assert not isinstance(tree.body[-1], ast.Expr), (
        f"{where}: a test cell must not end in an expression (nbgrader reads a number there as partial credit)"
    )


@pytest.mark.parametrize("path", solution_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_solution_notebook_format(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"] == {"display_name": "Python 3 (ipykernel)", "language": "python",
                                               "name": "python3"}
    ids = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    assert all(c.id == c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata)
    tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    solutions = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert 2 <= len(tests) <= 4 and solutions
    for cell in solutions:
        meta = cell.metadata["nbgrader"]
        assert cell.cell_type == "code" and not meta["grade"] and not meta["locked"] and meta["schema_version"] == 3
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
    for cell in tests:
        meta = cell.metadata["nbgrader"]
        where = meta["grade_id"]
        assert cell.cell_type == "code" and meta["locked"] and not meta["solution"] and meta["points"] > 0, where
        assert meta["schema_version"] == 3 and where.startswith("test-"), f"{where}: test cells are named test-..."
        assert "### BEGIN HIDDEN TESTS" in cell.source and "### END HIDDEN TESTS" in cell.source, where
        check_test_cell(where, cell.source)
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        check_test_cell(where + " (visible part)", visible)


# ---------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_exercises_are_exactly_what_generate_writes() -> None:
    differences = grading.check_exercises(Course.load(ROOT))
    assert differences == [], "exercises/ is stale; run make exercises:\n" + "\n".join(differences)


@pytest.mark.slow
def test_generate_is_reproducible_and_hides_solutions(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    first = {p.name: p.read_bytes() for p in (course.release / ASSIGNMENT).iterdir()}
    grading.generate(course, echo=False)
    second = {p.name: p.read_bytes() for p in (course.release / ASSIGNMENT).iterdir()}
    assert first == second and set(first) == {"flask.ipynb", "fastapi.ipynb"}
    for name, data in first.items():
        text = data.decode()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, name
        assert "raise NotImplementedError()" in text and text.endswith("}\n"), name
        notebook = nbformat.reads(text, as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells), name


# ---------------------------------------------------------------------------------------------
# One batch: the robustness corpus
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Batch:
    course: Course
    cases: list[Case]
    results: dict[tuple[str, str], Result]  # by (student, assignment)
    output: str
    elapsed: float
    earlier_scores: dict[tuple[str, str], float]
    earlier_files: dict[str, bytes]
    course_before: dict[str, bytes]  # every file of the real course, before grading

    @property
    def assignments(self) -> list[str]:
        return self.course.assignments()


def max_points(course: Course, assignment: str) -> float:
    """The points of all test cells of an assignment, read from its released notebooks."""
    return float(sum(
        cell.metadata["nbgrader"]["points"]
        for path in (course.release / assignment).glob("*.ipynb")
        for cell in nbformat.read(path, as_version=4).cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    ))


def seed_earlier_student(course: Course) -> tuple[dict[tuple[str, str], float], dict[str, bytes]]:
    """A student graded in an earlier run (one grade changed by hand): nothing may touch them."""
    from nbgrader.api import Gradebook

    scores = {}
    with warnings.catch_warnings(), Gradebook(course.db_url, course.course_id) as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's SAWarnings from inside nbgrader's API
        gb.add_student("earlier")
        submission = gb.add_submission(ASSIGNMENT, "earlier")
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = grade.max_score
                grade.needs_manual_grade = False
                if grade.name == "test-flask-validate":
                    grade.manual_score = 1.5
            gb.db.commit()
            scores.update({(notebook.name, grade.name): float(grade.score) for grade in notebook.grades})
    files = {}
    for kind in (course.autograded, course.feedback):
        folder = kind / "earlier" / ASSIGNMENT
        folder.mkdir(parents=True)
        path = folder / ("flask.ipynb" if kind == course.autograded else "flask.html")
        path.write_text(f"graded earlier: {kind.name}")
        files[str(path)] = path.read_bytes()
    return scores, files


# What grading itself writes into the course; everything else must stay byte for byte.
GRADING_OUTPUTS = ("autograded", "feedback", "gradebook.db", "grades.csv", "grading-notes.json")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a course folder (but grading's own outputs), by relative path."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).parts[0] not in GRADING_OUTPUTS
    }


# What the corpus's cases leave running (LINGERS, FORKS): unique command lines to look for afterwards.
# (Other tests may be grading at the same time, so their sandboxes' kernels may legitimately be alive.)
LEFT_BY_THE_CORPUS = ("sleep 6001", "sleep 6002", "sleep 6003", "sleep 3001")


def sandbox_processes() -> list[str]:
    """Processes that the corpus's cases started in their sandboxes and that are still alive."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info.get("cmdline") or [])
        if cmdline in LEFT_BY_THE_CORPUS:
            found.append(f"{process.info['pid']}: {cmdline}")
    return found


def processes_under(folder: Path) -> list[dict]:
    """Processes whose working directory is inside ``folder`` (grader workers and their kernels)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
        if str(process.info.get("cwd") or "").startswith(str(folder)):
            found.append(process.info)
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    base = tmp_path_factory.mktemp("grading")
    course = make_course(base / "course")
    earlier_scores, earlier_files = seed_earlier_student(course)
    for assignment in course.assignments():  # every assignment: its solutions, and its exercises as released
        shutil.copytree(course.source / assignment, course.submitted / "solution" / assignment)
        shutil.copytree(course.release / assignment, course.submitted / "unmodified" / assignment)
    cases = build(course.root, course.release, course.source)
    cases += build_idioms(course.root, course.release)
    course_before = snapshot(course.root)
    options = GradingOptions(
        jobs=JOBS, cell_timeout=CELL_TIMEOUT, interrupt_grace=INTERRUPT_GRACE, submission_timeout=SUBMISSION_TIMEOUT,
        temp_dir=base / "work",
    )
    output = io.StringIO()
    started = time.monotonic()
    results = grading.grade(course, options, out=output)
    elapsed = time.monotonic() - started
    print(output.getvalue())
    return Batch(course, cases, {(r.student, r.assignment): r for r in results}, output.getvalue(), elapsed,
                 earlier_scores, earlier_files, course_before)


@pytest.mark.slow
def test_every_case_gets_its_score_or_a_clear_reason(batch: Batch) -> None:
    mismatches = []
    for case in batch.cases:
        result = batch.results.get((case.student, case.assignment))
        if result is None:
            mismatches.append(f"{case.student}: no result at all")
            continue
        said = " ".join([result.reason, *result.notes])
        if case.score is None:
            if result.graded or not result.reason:
                mismatches.append(f"{case.student} ({case.what}): expected a failure with a reason, got {result}")
        elif not result.graded or result.score != case.score or result.max_score != MAX_SCORE:
            mismatches.append(f"{case.student} ({case.what}): expected {case.score:g}/{MAX_SCORE:g}, "
                              f"got {result.status} {result.score}/{result.max_score}: {said}")
        for fragment in case.says:
            if fragment not in said:
                mismatches.append(f"{case.student} ({case.what}): expected {fragment!r} in {said!r}")
    assert len(batch.results) == len(batch.cases) + 2 * len(batch.assignments), sorted(batch.results)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.slow
def test_solutions_score_full_marks_and_run_clean(batch: Batch) -> None:
    for assignment in batch.assignments:
        result = batch.results[("solution", assignment)]
        full = max_points(batch.course, assignment)
        assert result.graded and result.score == full == result.max_score, result
        for path in sorted((batch.course.autograded / "solution" / assignment).glob("*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            for cell in notebook.cells:
                for output in cell.get("outputs", []):
                    assert output.output_type != "error", (path.name, cell.source[:80], output)
                    assert output.get("name") != "stderr", (path.name, cell.source[:80], output)
        for name, notebook in result.notebooks.items():
            assert all(g["auto_score"] == g["max_score"] for g in notebook["grades"].values()), (assignment, name)


@pytest.mark.slow
def test_unmodified_exercises_score_zero_without_crashing(batch: Batch) -> None:
    for assignment in batch.assignments:
        result = batch.results[("unmodified", assignment)]
        assert result.graded and result.score == 0.0, result
        assert result.max_score == max_points(batch.course, assignment), result
        grades = [g for nb in result.notebooks.values() for g in nb["grades"].values()]
        assert grades and all(g["auto_score"] == 0 and not g["needs_manual_grade"] for g in grades), result
    assert max_points(batch.course, ASSIGNMENT) == MAX_SCORE


@pytest.mark.slow
def test_nothing_hangs_beyond_the_timeouts(batch: Batch) -> None:
    slowest = max(batch.results.values(), key=lambda r: r.seconds)
    assert slowest.seconds < SUBMISSION_TIMEOUT, slowest
    assert not any("hard limit" in r.reason for r in batch.results.values())
    # Every graded case finished; the batch as a whole is bounded by its cases, not by any hang.
    assert batch.elapsed < 400, f"the corpus took {batch.elapsed:.0f} s"
    assert processes_under(batch.course.root.parent) == [], "grader processes or kernels are still running"
    assert sandbox_processes() == [], "processes started in a sandbox outlived grading"
    assert list((batch.course.root.parent / "work").iterdir()) == [], "temporary courses were left behind"


@pytest.mark.slow
def test_no_other_grade_or_file_changed(batch: Batch) -> None:
    from nbgrader.api import Gradebook

    course = batch.course
    with warnings.catch_warnings(), Gradebook(course.db_url, course.course_id) as gb:
        warnings.simplefilter("ignore")
        submission = gb.find_submission(ASSIGNMENT, "earlier")
        scores = {(nb.name, g.name): float(g.score) for nb in submission.notebooks for g in nb.grades}
        assert gb.find_submission(ASSIGNMENT, "solution").score == MAX_SCORE
    assert scores == batch.earlier_scores
    assert {path: Path(path).read_bytes() for path in batch.earlier_files} == batch.earlier_files
    # What writes-outside aimed at in a plain nbgrader course is intact here.
    assert b"overwritten" not in (course.submitted / "solution" / ASSIGNMENT / "flask.ipynb").read_bytes()
    assert b"overwritten" not in (course.feedback / "solution" / ASSIGNMENT / "flask.html").read_bytes()
    assert b"overwritten" not in (course.root / "grades.csv").read_bytes()
    assert sorted(p.name for p in course.root.iterdir()) == [
        "autograded", "exercises", "feedback", "gradebook.db", "grades.csv", "grading-notes.json",
        "nbgrader_config.py", "solutions", "submitted",
    ]
    after = snapshot(course.root)
    changed = sorted(name for name in set(after) | set(batch.course_before)
                     if after.get(name) != batch.course_before.get(name))
    assert changed == [], f"grading changed files of the real course: {changed[:10]}"
    assert sorted(p.name for p in (course.autograded / "solution").iterdir()) == batch.assignments


@pytest.mark.slow
def test_grades_csv_feedback_and_summary(batch: Batch) -> None:
    course = batch.course
    with (course.root / "grades.csv").open(newline="") as handle:
        rows = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(handle)}
    for case in batch.cases:
        result = batch.results[(case.student, case.assignment)]
        row = rows[(case.assignment, case.student)]
        if case.score is None:
            assert row["status"] == "failed" and row["score"] == "" and result.reason in row["notes"], row
        else:
            assert row["status"] == "graded" and float(row["raw_score"]) == case.score, row
            assert row["max_score"] == "20.0", row
            for name in result.notebooks:
                submitted = course.submitted / case.student / ASSIGNMENT / f"{name}.ipynb"
                unreadable = any(note.startswith(f"{name}.ipynb is not a readable") for note in result.notes)
                if submitted.exists() and not unreadable:
                    assert (course.feedback / case.student / ASSIGNMENT / f"{name}.html").exists(), (case, name)
    earlier = rows[(ASSIGNMENT, "earlier")]
    assert earlier["status"] == "graded" and float(earlier["raw_score"]) == sum(batch.earlier_scores.values())
    out = batch.output
    failed = [c.student for c in batch.cases if c.score is None]
    total = len(batch.results)
    assert f"Graded {total - len(failed)} of {total} submission(s)" in out
    assert f"Failed ({len(failed)})" in out and all(f"  {s}/" in out for s in failed)
    assert len(re.findall(r"^\[\s*\d+/\d+\] ", out, flags=re.M)) == total, "one progress line per submission"


@pytest.mark.slow
def test_output_flood_is_capped(batch: Batch) -> None:
    path = batch.course.autograded / "flood" / ASSIGNMENT / "flask.ipynb"
    assert path.stat().st_size < 1_000_000
    assert "output truncated by the grader" in path.read_text()


# ---------------------------------------------------------------------------------------------
# The hard per-submission limit
# ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_hard_limit_kills_the_worker_and_its_kernels(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    folder = course.submitted / "stuck" / ASSIGNMENT
    folder.mkdir(parents=True)
    notebook = nbformat.read(course.release / ASSIGNMENT / "flask.ipynb", as_version=4)
    spin = 'import subprocess\n\nsubprocess.Popen(["sleep", "6004"])\nwhile True:\n    pass'
    notebook.cells.insert(1, nbformat.v4.new_code_cell(spin, id="spin"))
    nbformat.write(notebook, folder / "flask.ipynb")
    options = GradingOptions(jobs=1, cell_timeout=60, submission_timeout=8, echo=False, temp_dir=tmp_path / "work")
    started = time.monotonic()
    (result,) = grading.grade(course, options)
    elapsed = time.monotonic() - started
    assert not result.graded and "hard limit of 8 s" in result.reason, result
    # Without the hard limit the spinning cell would run to its 60 s cell timeout; 8 s plus the
    # sandbox's start and stop is expected, and a loaded machine stays well below 60.
    assert elapsed < 55, elapsed
    assert processes_under(tmp_path) == [], "the worker or its kernel survived the hard limit"
    # The kernel's own child: it dies only if the kernel's sandbox (its PID namespace) went too.
    deadline = time.monotonic() + 10
    while any(" ".join(p.info["cmdline"] or []) == "sleep 6004" for p in psutil.process_iter(["cmdline"])):
        assert time.monotonic() < deadline, "a process started in the sandbox survived the hard limit"
        time.sleep(0.05)
    with (course.root / "grades.csv").open(newline="") as handle:
        (row,) = [r for r in csv.DictReader(handle) if r["student_id"] == "stuck"]
    assert row["status"] == "failed" and "hard limit" in row["notes"]


# ---------------------------------------------------------------------------------------------
# Manual grading: reported, and kept when a submission is graded again
# ---------------------------------------------------------------------------------------------

def nbgrader_cell(cell: nbformat.NotebookNode, grade_id: str, **flags: object) -> nbformat.NotebookNode:
    meta = {"grade": False, "solution": False, "locked": False, "schema_version": 3, "grade_id": grade_id, **flags}
    cell.metadata["nbgrader"] = meta
    cell.id = grade_id
    return cell


@pytest.mark.slow
def test_manual_grading_is_reported_and_kept(tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    root = tmp_path / "course"
    (root / "solutions" / "manual").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    new_code, new_markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    notebook = nbformat.v4.new_notebook(cells=[
        nbgrader_cell(new_code("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"), "answer", solution=True),
        nbgrader_cell(new_code('assert answer == 42, f"expected 42, got {answer}"'), "test-answer", grade=True,
                      locked=True, points=1),
        nbgrader_cell(new_markdown("YOUR ANSWER HERE"), "explain", grade=True, solution=True, points=2),
    ])
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(notebook, root / "solutions" / "manual" / "quiz.ipynb")
    course = Course.load(root)
    grading.generate(course, echo=False)
    submitted = nbformat.read(course.release / "manual" / "quiz.ipynb", as_version=4)
    submitted.cells[0].source = "answer = 6 * 7"
    submitted.cells[2].source = "Because it is the answer."
    (course.submitted / "ada" / "manual").mkdir(parents=True)
    nbformat.write(submitted, course.submitted / "ada" / "manual" / "quiz.ipynb")
    options = GradingOptions(jobs=1, cell_timeout=30, temp_dir=tmp_path / "work")

    output = io.StringIO()
    (result,) = grading.grade(course, options, out=output)
    assert result.graded and result.needs_manual_grade and result.score == 1.0 and result.max_score == 3.0, result
    assert "Needing manual grading (1)" in output.getvalue() and "  ada/manual" in output.getvalue()
    with (course.root / "grades.csv").open(newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["status"] == "needs manual grading" and row["needs_manual_grade"] == "True", row

    with warnings.catch_warnings(), Gradebook(course.db_url, course.course_id) as gb:
        warnings.simplefilter("ignore")
        grade = gb.find_grade("explain", "quiz", "manual", "ada")
        grade.manual_score = 2.0
        gb.db.commit()
    (again,) = grading.grade(course, dataclasses.replace(options, echo=False))
    assert again.graded, again
    with warnings.catch_warnings(), Gradebook(course.db_url, course.course_id) as gb:
        warnings.simplefilter("ignore")
        assert gb.find_grade("explain", "quiz", "manual", "ada").manual_score == 2.0
        assert gb.find_submission("manual", "ada").score == 3.0


# ---------------------------------------------------------------------------------------------
# The hostile cases, seen from outside: what their cells printed, what the feedback shows
# ---------------------------------------------------------------------------------------------

def cell_output(batch: Batch, student: str, cell_id: str, notebook: str = "flask") -> str:
    """The text a cell printed, in the autograded notebook the grader wrote."""
    path = batch.course.autograded / student / ASSIGNMENT / f"{notebook}.ipynb"
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.get("id") == cell_id:
            return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")
    raise AssertionError(f"no cell {cell_id} in {path}")


def hidden_lines(assignment: str, name: str) -> set[str]:
    """The lines of hidden tests of one solution notebook that feedback must not show."""
    return hidden_test_lines(ROOT / "solutions", assignment, name)


def feedback_text(path: Path) -> str:
    """The feedback page as a reader sees its text (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_the_sandbox_kept_the_course_out_of_reach(batch: Batch) -> None:
    # Writes to the course's absolute paths land in the sandbox's private /tmp (the test course lives
    # under /tmp) or its own folder; the real files are untouched (test_no_other_grade_or_file_changed).
    written = cell_output(batch, "writes-outside", "student-writes")
    assert re.search(r"[1-9]\d* of \d+ writes refused", written), written
    for line in written.splitlines():
        if line.startswith("WROTE "):
            target = Path(line.split(" ", 1)[1])
            assert target.is_relative_to("/proc") or b"overwritten" not in target.read_bytes(), line
    snooped = cell_output(batch, "snoop", "student-snoop")
    assert "notebooks with this course's hidden tests: 0" in snooped, snooped
    network = cell_output(batch, "network", "student-network")
    assert "interfaces: ['lo']" in network and "routes: 0" in network, network
    forks = cell_output(batch, "forks", "student-forks")
    started = int(re.search(r"started (\d+) processes", forks).group(1))
    assert 0 < started < grading.Limits().processes, forks


@pytest.mark.slow
def test_feedback_shows_outcomes_and_messages_but_no_hidden_test_source(batch: Batch) -> None:
    for assignment in batch.assignments:
        for path in sorted((batch.course.feedback / "solution" / assignment).glob("*.html")):
            text = feedback_text(path)
            shown = hidden_lines_in(text, hidden_lines(assignment, path.stem))
            assert shown == [], f"{assignment}/{path.name} shows hidden test lines: {shown[:3]}"
            assert "hidden tests: their outcome is shown below" in text, path
    # A student who prints every cell that runs (hidden tests included) sees them withheld.
    snooped = feedback_text(batch.course.feedback / "snoop" / ASSIGNMENT / "flask.html")
    assert hidden_lines_in(snooped, hidden_lines(ASSIGNMENT, "flask")) == []
    assert "[hidden test line withheld]" in snooped
    # A failed hidden test still tells the student what was expected.
    partial = feedback_text(batch.course.feedback / "partial" / ASSIGNMENT / "flask.html")
    assert "AssertionError" in partial and "expected status 400" in partial, partial[-2000:]


# ---------------------------------------------------------------------------------------------
# Small units: sandbox, notes, reasons, feedback
# ---------------------------------------------------------------------------------------------

def run_in_sandbox(tmp_path: Path, command: list[str], **limits: int) -> subprocess.CompletedProcess:
    from backendlab.grading.sandbox import Sandbox, UidLease

    lease = UidLease() if os.geteuid() == 0 else None
    try:
        sandbox = Sandbox(tmp_path / "sandbox", grading.Limits(**limits), uid=lease.uid if lease else None).create()
        try:
            return subprocess.run(sandbox.argv(command), capture_output=True, text=True, timeout=60)
        finally:
            shutil.rmtree(sandbox.sockets)
    finally:
        if lease:
            lease.release()


def test_sandbox_sees_only_the_environment_and_its_own_folders(tmp_path: Path) -> None:
    code = (
        "import os, socket, sys\n"
        f"print(os.path.exists({str(ROOT / 'solutions')!r}), os.path.exists({str(ROOT / 'nbgrader_config.py')!r}))\n"
        "print(sorted(os.listdir('/home/student')), os.getcwd())\n"
        "print([n for _, n in socket.if_nameindex()], len([p for p in os.listdir('/proc') if p.isdigit()]))\n"
        "import backendlab, flask\n"
        "for target in (sys.prefix + '/x', '/etc/x', '/x'):\n"
        "    try:\n"
        "        open(target, 'w')\n"
        "        print('wrote', target)\n"
        "    except OSError as exc:\n"
        "        print('refused', exc.errno)\n"
        "open('/home/student/work/mine.txt', 'w').write('ok')\n"
    )
    done = run_in_sandbox(tmp_path, [sys.executable, "-c", code])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "False False", "the course folder is visible in the sandbox"
    assert lines[1] == "['work'] /home/student/work"
    # Only loopback; only its own processes (bwrap's init and this one).
    assert lines[2] == "['lo'] 2", lines[2]
    assert [line.split()[0] for line in lines[3:]] == ["refused"] * 3, lines
    assert (tmp_path / "sandbox" / "work" / "mine.txt").read_text() == "ok"


def test_sandbox_applies_its_limits(tmp_path: Path) -> None:
    code = (
        "import resource\n"
        "print(resource.getrlimit(resource.RLIMIT_DATA)[0], resource.getrlimit(resource.RLIMIT_NPROC)[0],\n"
        "      resource.getrlimit(resource.RLIMIT_FSIZE)[0])\n"
        "try:\n"
        "    bytearray(512 * 1024**2)\n"
        "except MemoryError:\n"
        "    print('MemoryError')\n"
    )
    done = run_in_sandbox(tmp_path, [sys.executable, "-c", code], memory=256 * 1024**2, processes=50,
                          file_size=1024**2)
    assert done.stdout.split() == [str(256 * 1024**2), "50", str(1024**2), "MemoryError"], done.stdout + done.stderr


def test_nothing_started_in_a_sandbox_outlives_it(tmp_path: Path) -> None:
    marker = f"sleep {7000 + os.getpid() % 997}"
    done = run_in_sandbox(tmp_path, ["/bin/sh", "-c", f"setsid {marker} & nohup {marker} >/dev/null 2>&1 & echo ok"])
    assert done.stdout.strip() == "ok", done.stderr
    deadline = time.monotonic() + 10
    while any(" ".join(p.info["cmdline"] or []) == marker for p in psutil.process_iter(["cmdline"])):
        assert time.monotonic() < deadline, f"{marker} survived its sandbox"
        time.sleep(0.05)


def test_missing_sandbox_stops_grading_with_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on this PATH
    with pytest.raises(grading.SandboxUnavailable, match="apt-get install bubblewrap"):
        grading.check_sandbox()
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    (tmp_path / "submitted" / "ada" / "01-lightweight").mkdir(parents=True)
    with pytest.raises(grading.SandboxUnavailable, match="--unsafe-no-sandbox"):
        grading.grade(Course.load(tmp_path), GradingOptions(jobs=1, echo=False))
    assert not (tmp_path / "grades.csv").exists()


def test_unsafe_grading_says_so_in_every_row_and_notes_are_kept_across_runs(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    for student in ("ada", "bob"):  # empty submissions: failures with a reason, no kernel needed
        (course.submitted / student / ASSIGNMENT).mkdir(parents=True)
    options = GradingOptions(jobs=1, echo=False, sandbox=False, temp_dir=tmp_path / "work")
    grading.grade(course, options)
    grading.grade(course, dataclasses.replace(options, sandbox=True), students=["ada"])
    with (course.root / "grades.csv").open(newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert rows["ada"]["sandbox"] == "bubblewrap" and rows["bob"]["sandbox"].startswith("none"), rows
    assert "no readable notebook" in rows["bob"]["notes"], "bob's notes were lost when only ada was graded again"
    assert "no readable notebook" in rows["ada"]["notes"]


def test_copied_and_damaged_cells_are_repaired_with_a_reason(tmp_path: Path) -> None:
    release = ROOT / "exercises" / ASSIGNMENT
    notebook = nbformat.read(release / "flask.ipynb", as_version=4)
    copied = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test-flask-read"][0]
    notebook.cells.append(nbformat.from_dict(json.loads(json.dumps(copied))))
    notebook.cells[-1].id = "copy"
    notebook.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"grade": "yes"}}))
    (tmp_path / "s").mkdir()
    nbformat.write(notebook, tmp_path / "s" / "flask.ipynb")
    notes = grading.check_notebooks(tmp_path / "s", release)
    assert any("is a copy of cell test-flask-read" in n for n in notes), notes
    assert any("damaged grading metadata" in n for n in notes), notes
    repaired = nbformat.read(tmp_path / "s" / "flask.ipynb", as_version=4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in repaired.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))


def test_hide_hidden_tests_keeps_visible_code_and_messages() -> None:
    from backendlab.grading.feedback import hide_hidden_tests

    source = ("assert answer() == 1, 'expected 1'\n### BEGIN HIDDEN TESTS\n"
              "assert answer(secret_input=7) == 49, 'expected 49 for the secret input'\n### END HIDDEN TESTS")
    cell = nbformat.v4.new_code_cell(source, outputs=[
        nbformat.v4.new_output("error", ename="AssertionError", evalue="expected 49 for the secret input",
                               traceback=["Cell In[3], line 3",
                                          "\x1b[0;32m----> 3\x1b[0m assert answer(secret_input=7) == 49, "
                                          "'expected 49 for the secret input'"]),
    ])
    printed = nbformat.v4.new_code_cell("pass", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="assert answer(secret_input=7) == 49, 'expected 49 for"
                                                             " the secret input'\nmine\n")])
    notebook = nbformat.v4.new_notebook(cells=[cell, printed])
    assert hide_hidden_tests(notebook) == 1
    assert "secret_input" not in json.dumps(notebook)
    assert cell.source.startswith("assert answer() == 1") and "hidden tests" in cell.source
    assert cell.outputs[0].evalue == "expected 49 for the secret input"
    assert printed.outputs[0].text == "[hidden test line withheld]\nmine\n"


@pytest.mark.parametrize(("output", "expected"), [
    ({"ename": "MemoryError", "evalue": ""}, "more memory than the limit"),
    ({"ename": "OSError", "evalue": "[Errno 30] Read-only file system: '/x'"}, "read-only"),
    ({"ename": "BlockingIOError", "evalue": "[Errno 11] Resource temporarily unavailable"}, "processes"),
    ({"ename": "OSError", "evalue": "[Errno 101] Network is unreachable"}, "network"),
    ({"ename": "FileNotFoundError", "evalue": "[Errno 2] No such file or directory: '/srv/course/x'"}, "not exist"),
    ({"ename": "FileNotFoundError", "evalue": "[Errno 2] No such file or directory: '/home/student/work/x'"}, None),
    ({"ename": "ValueError", "evalue": "bad"}, None),
])
def test_sandbox_attempts_are_named(output: dict, expected: str | None) -> None:
    from backendlab.grading.execute import sandbox_attempt

    found = sandbox_attempt({"output_type": "error", **output})
    assert (found is None) if expected is None else (expected in found), found


@pytest.mark.parametrize(("text", "size"), [("2G", 2 * 1024**3), ("512 MiB", 512 * 1024**2), (1000, 1000),
                                            ("1.5K", 1536)])
def test_limits_read_sizes(text: object, size: int) -> None:
    from backendlab.grading.results import parse_size

    assert parse_size(text) == size


def test_nbgraders_metadata_advice_becomes_a_reason_for_the_student() -> None:
    import logging

    from backendlab.grading.course import explain_nbgrader_failure

    record = logging.LogRecord("nbgrader", logging.ERROR, __file__, 1, "One or more notebooks in the assignment use "
                               "an old version \nof the nbgrader metadata format. ... nbgrader update .", None, None)
    reason = explain_nbgrader_failure([record], RuntimeError("failed"))
    assert "nbgrader update" not in reason and "released notebook" in reason, reason
