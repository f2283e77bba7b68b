"""Grading's bookkeeping, without kernels or a sandbox: the command line's ``check``, the due date
a template carries, the per-submission limit, late penalties and ``grades.csv``, the notes store.

A tiny course (one assignment, one notebook, two graded cells) keeps every test fast.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime
import json
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from backendlab import grading
from backendlab.grading import Course, GradingOptions, Result, Submission
from backendlab.grading.batch import merge_result, prepare_template, submission_limit
from backendlab.grading.report import load_notes, summary, update_notes, write_grades_csv
from backendlab.grading.results import limits_from_config, parse_size
from backendlab.grading.sandbox import Limits

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "tiny"
DUE = datetime.datetime(2026, 3, 1, 12, 0)


def cell(source: str, grade_id: str, *, solution: bool = False, points: int | None = None) -> nbformat.NotebookNode:
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def tiny_notebook() -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", "answer", solution=True),
        cell("assert double(2) == 4", "test-small", points=3),
        cell("assert double(-5) == -10", "test-negative", points=2),
        nbformat.v4.new_markdown_cell("The end."),
    ]
    return notebook


@pytest.fixture
def course(tmp_path: Path) -> Course:
    """A course with one generated assignment of three code cells worth 5 points."""
    root = tmp_path / "course"
    (root / "solutions" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    nbformat.write(tiny_notebook(), root / "solutions" / ASSIGNMENT / "double.ipynb")
    assert grading.main(["--course", str(root), "generate"]) == 0
    return Course.load(root)


def set_due_date(course: Course, due: datetime.datetime | None) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id) as gb:
        gb.update_or_create_assignment(ASSIGNMENT, duedate=due)


def graded(student: str, small: float, negative: float, penalty: float = 0.0, **kwargs: object) -> Result:
    """A graded result as a worker reports it: scores per test cell and the notebook's late penalty."""
    notebook = {"late_submission_penalty": penalty, "comments": {},
                "grades": {"test-small": {"auto_score": small, "needs_manual_grade": False},
                           "test-negative": {"auto_score": negative, "needs_manual_grade": False}}}
    return Result(student, ASSIGNMENT, "graded", score=small + negative, max_score=5.0,
                  notebooks={"double": notebook}, **kwargs)


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


# -- the command line's check ---------------------------------------------------------------------


def test_check_exits_0_when_exercises_match_and_1_listing_each_difference(
        course: Course, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert grading.main(["--course", str(course.root), "check"]) == 0
    assert capsys.readouterr().out == "exercises/ is up to date\n"

    released = course.release / ASSIGNMENT / "double.ipynb"
    released.write_text(released.read_text() + " ")
    (course.release / ASSIGNMENT / "notes.txt").write_text("not generated")
    assert grading.main(["--course", str(course.root), "check"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"unexpected: {ASSIGNMENT}/notes.txt", f"differs: {ASSIGNMENT}/double.ipynb",
        "exercises/ differs from solutions/: run make exercises",
    ]

    released.unlink()
    assert grading.main(["--course", str(course.root), "check"]) == 1
    assert f"missing: {ASSIGNMENT}/double.ipynb" in capsys.readouterr().out.splitlines()


def test_generate_prints_what_it_wrote(course: Course, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert grading.main(["--course", str(course.root), "generate", ASSIGNMENT]) == 0
    assert capsys.readouterr().out == f"generated exercises/{ASSIGNMENT}: double.ipynb\n"


# -- the template: due date and size ---------------------------------------------------------------


@pytest.mark.parametrize("due", [DUE, None], ids=["with a due date", "without"])
def test_template_carries_the_assignments_due_date(course: Course, tmp_path: Path,
                                                   due: datetime.datetime | None) -> None:
    from nbgrader.api import Gradebook

    set_due_date(course, due)
    template = prepare_template(course, ASSIGNMENT, tmp_path / "work")
    with Gradebook(f"sqlite:///{template.db}", course.course_id) as gb:
        assert gb.find_assignment(ASSIGNMENT).duedate == due
        assert [s.id for s in gb.students] == [], "the template must hold no student data"
    assert template.code_cells == 3
    assert sorted(p.name for p in template.release.iterdir()) == ["double.ipynb"]


# -- the hard limit per submission -----------------------------------------------------------------


def test_default_submission_limit_gives_every_code_cell_its_whole_timeout(course: Course, tmp_path: Path) -> None:
    template = prepare_template(course, ASSIGNMENT, tmp_path / "work")  # 3 code cells
    # per cell: its timeout, the grace after an interrupt (5 s by default), 4 s for the last output;
    # plus 120 s for the worker and kernel starts
    assert course.cell_timeout == 60
    assert submission_limit(template, GradingOptions(), course) == 120 + 3 * (60 + 5 + 4)
    assert submission_limit(template, GradingOptions(cell_timeout=10), course) == 120 + 3 * (10 + 5 + 4)
    assert submission_limit(template, GradingOptions(cell_timeout=10, interrupt_grace=0.0), course) == 120 + 3 * 14
    no_timeout = dataclasses.replace(course, cell_timeout=None)
    assert submission_limit(template, GradingOptions(), no_timeout) == 120 + 3 * (60 + 5 + 4)
    course.config.GuardedExecute.interrupt_grace = 1.5
    assert submission_limit(template, GradingOptions(cell_timeout=10), course) == 120 + 3 * (10 + 1.5 + 4)
    assert submission_limit(template, GradingOptions(submission_timeout=42.5), course) == 42.5


# -- late penalties and grades.csv -----------------------------------------------------------------


def test_late_penalty_is_subtracted_and_never_goes_below_zero(course: Course, tmp_path: Path) -> None:
    set_due_date(course, DUE)
    merge_result(course, graded("ada", 3, 2, timestamp="2026-03-02 12:00:00"), None)
    merge_result(course, graded("bob", 3, 0, penalty=1.0), None)
    merge_result(course, graded("cyd", 0, 2, penalty=4.0), None)
    rows = read_csv(tmp_path / "grades.csv") if write_grades_csv(course, [], tmp_path / "grades.csv") == 3 else {}
    assert {s: (r["raw_score"], r["late_submission_penalty"], r["score"]) for s, r in rows.items()} == {
        "ada": ("5.0", "0.0", "5.0"), "bob": ("3.0", "1.0", "2.0"), "cyd": ("2.0", "4.0", "0.0"),
    }
    assert rows["ada"]["timestamp"].startswith("2026-03-02 12:00:00")
    assert {r["duedate"] for r in rows.values()} == {"2026-03-01 12:00:00"}
    assert {r["max_score"] for r in rows.values()} == {"5.0"}
    assert {r["status"] for r in rows.values()} == {"graded"}
    assert {r["needs_manual_grade"] for r in rows.values()} == {"False"}


def test_grades_csv_has_a_row_per_student_and_assignment_with_a_status(course: Course, tmp_path: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id) as gb:
        gb.update_or_create_student("dee", first_name="Dee", last_name="Ray", email="dee@example.org")
    merge_result(course, graded("ada", 3, 2), None)
    failed = Result.failed(Submission("eve", ASSIGNMENT, tmp_path), "no readable notebook", notes=["a note"])
    other = Result.failed(Submission("ada", "gone", tmp_path), "there is no assignment 'gone'")
    path = tmp_path / "grades.csv"
    before = gradebook_dump(course)
    assert write_grades_csv(course, [graded("ada", 3, 2, notes=["n1", "n2"]), failed, other], path) == 5
    assert gradebook_dump(course) == before, "writing grades.csv changed the gradebook"
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[:11] == ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                           "raw_score", "late_submission_penalty", "score", "max_score"]
    rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(path.open(newline="", encoding="utf-8"))}
    assert sorted(rows) == [("gone", "ada"), ("gone", "dee"), (ASSIGNMENT, "ada"), (ASSIGNMENT, "dee"),
                            (ASSIGNMENT, "eve")]
    dee = rows[ASSIGNMENT, "dee"]
    assert (dee["status"], dee["first_name"], dee["last_name"], dee["email"], dee["notes"]) == (
        "not submitted", "Dee", "Ray", "dee@example.org", "")
    assert (dee["raw_score"], dee["late_submission_penalty"], dee["score"]) == ("0.0", "0.0", "0.0")
    eve = rows[ASSIGNMENT, "eve"]
    assert (eve["status"], eve["score"], eve["notes"], eve["sandbox"]) == (
        "failed", "", "no readable notebook; a note", "bubblewrap")
    assert (rows["gone", "ada"]["status"], rows["gone", "ada"]["max_score"]) == ("failed", "")
    assert (rows["gone", "dee"]["status"], rows["gone", "dee"]["duedate"]) == ("not submitted", "")
    assert (rows[ASSIGNMENT, "ada"]["status"], rows[ASSIGNMENT, "ada"]["notes"]) == ("graded", "n1; n2")


def gradebook_dump(course: Course) -> list[str]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(course.db_url.removeprefix("sqlite:///"))) as db:
        return list(db.iterdump())


def test_a_notes_store_with_missing_fields_still_gives_rows(course: Course, tmp_path: Path) -> None:
    """An entry written by hand (or by an older grader) may lack its notes or reason."""
    merge_result(course, graded("ada", 3, 2), None)
    store = {ASSIGNMENT: {"ada": {"status": "graded"}, "bob": {"status": "failed"},
                          "cyd": {"status": "failed", "notes": ["x"]}}}
    (course.root / "grading-notes.json").write_text(json.dumps(store))
    write_grades_csv(course, [], tmp_path / "grades.csv")
    rows = read_csv(tmp_path / "grades.csv")
    assert (rows["ada"]["notes"], rows["ada"]["status"], rows["ada"]["sandbox"]) == ("", "graded", "")
    assert (rows["bob"]["notes"], rows["bob"]["status"]) == ("", "failed")
    assert rows["cyd"]["notes"] == "; x"


def test_manual_grading_and_unsafe_runs_show_in_the_row(course: Course, tmp_path: Path) -> None:
    result = graded("ada", 3, 2, sandboxed=False, notes=["slow cell"])
    result.notebooks["double"]["grades"]["test-small"]["needs_manual_grade"] = True
    merge_result(course, result, None)
    write_grades_csv(course, [result], tmp_path / "grades.csv")
    row = read_csv(tmp_path / "grades.csv")["ada"]
    assert (row["status"], row["needs_manual_grade"], row["notes"]) == ("needs manual grading", "True", "slow cell")
    assert row["sandbox"] == "none (graded with --unsafe-no-sandbox)"


def test_a_failed_regrade_keeps_the_earlier_grade(course: Course, tmp_path: Path) -> None:
    merge_result(course, graded("ada", 3, 2), None)
    merge_result(course, Result.failed(Submission("ada", ASSIGNMENT, tmp_path), "timed out"), None)
    write_grades_csv(course, [], tmp_path / "grades.csv")
    assert read_csv(tmp_path / "grades.csv")["ada"]["score"] == "5.0"


def test_notes_and_failures_are_kept_across_runs(course: Course, tmp_path: Path) -> None:
    first = [Result.failed(Submission("bob", ASSIGNMENT, tmp_path), "no readable notebook", notes=["n1"]),
             graded("ada", 3, 2, notes=["kept note", "another"])]
    merge_result(course, first[1], None)
    update_notes(course, first)
    update_notes(course, [graded("cyd", 1, 1, sandboxed=False)])  # a later run grades only cyd
    store = load_notes(course)
    assert store[ASSIGNMENT]["bob"]["reason"] == "no readable notebook"
    assert store[ASSIGNMENT]["ada"]["notes"] == ["kept note", "another"]
    assert (store[ASSIGNMENT]["cyd"]["status"], store[ASSIGNMENT]["cyd"]["sandboxed"]) == ("graded", False)
    stamp = store[ASSIGNMENT]["cyd"]["graded_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", stamp), stamp
    assert abs(datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S%z").timestamp() - time.time()) < 24 * 3600
    assert sorted(p.name for p in course.root.glob("grading-notes*")) == ["grading-notes.json"]
    write_grades_csv(course, [], tmp_path / "grades.csv")
    rows = read_csv(tmp_path / "grades.csv")
    assert (rows["bob"]["status"], rows["bob"]["notes"], rows["bob"]["sandbox"]) == (
        "failed", "no readable notebook; n1", "bubblewrap")
    assert (rows["ada"]["notes"], rows["ada"]["status"]) == ("kept note; another", "graded")
    assert rows["cyd"]["sandbox"] == "none (graded with --unsafe-no-sandbox)"


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_an_unreadable_notes_store_is_set_aside_not_fatal(course: Course, content: str) -> None:
    (course.root / "grading-notes.json").write_text(content)
    assert load_notes(course) == {}
    assert not (course.root / "grading-notes.json").exists()
    kept = list(course.root.glob("grading-notes.json.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_text() == content
    assert re.fullmatch(r"grading-notes\.json\.unreadable-\d{8}-\d{6}", kept[0].name), kept[0].name
    update_notes(course, [graded("ada", 1, 1)])
    assert json.loads((course.root / "grading-notes.json").read_text())[ASSIGNMENT]["ada"]["status"] == "graded"


def test_summary_names_failures_manual_grading_notes_and_a_missing_sandbox(course: Course, tmp_path: Path) -> None:
    manual = graded("bob", 3, 2, notes=["slow cell", "big output"], needs_manual_grade=True)
    failed = Result.failed(Submission("eve", ASSIGNMENT, tmp_path), "timed out", sandboxed=False)
    text = summary([graded("ada", 3, 2), manual, failed], 30.0, 2, tmp_path / "g.csv", 4, course)
    assert text.splitlines() == [
        "",
        "Graded 2 of 3 submission(s) in 30.0 s with 2 worker(s) (6.0 per minute).",
        "Failed (1): no score recorded, fix and grade again",
        f"  eve/{ASSIGNMENT}: timed out",
        "Needing manual grading (1): open the formgrader",
        f"  bob/{ASSIGNMENT}",
        "Notes (1):",
        f"  bob/{ASSIGNMENT}: slow cell",
        f"  bob/{ASSIGNMENT}: big output",
        "WARNING: graded without a sandbox (--unsafe-no-sandbox); grades.csv says so in every row",
        f"Scores: {tmp_path / 'g.csv'} (4 row(s)); feedback: {course.feedback}/<student>/<assignment>/; "
        f"notes: {course.root / 'grading-notes.json'}",
    ]
    quiet = summary([graded("ada", 3, 2)], 0.0, 1, tmp_path / "g.csv", 1, course).splitlines()
    assert quiet[1] == "Graded 1 of 1 submission(s) in 0.0 s with 1 worker(s) (0.0 per minute)."
    assert len(quiet) == 3
    half_second = summary([graded("ada", 3, 2)], 0.5, 1, tmp_path / "g.csv", 1, course).splitlines()
    assert half_second[1] == "Graded 1 of 1 submission(s) in 0.5 s with 1 worker(s) (120.0 per minute)."


# -- sizes and limits from nbgrader_config.py -------------------------------------------------------


@pytest.mark.parametrize(("text", "size"), [
    ("2G", 2 * 1024**3), ("512 MiB", 512 * 1024**2), ("1.5k", 1536), ("64KB", 65536), ("3T", 3 * 1024**4),
    ("7", 7), (" 10 B ", 10), (1000, 1000), (2.5, 2),
])
def test_sizes_are_read_in_powers_of_1024(text: object, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "2X", "-1G", "G"])
def test_a_size_that_is_not_one_names_the_value(text: str) -> None:
    with pytest.raises(ValueError, match=f"not a size: {text!r}"):
        parse_size(text)


def test_sandbox_limits_come_from_the_config_or_the_defaults() -> None:
    from traitlets.config import Config

    config = Config()
    assert limits_from_config(config) == Limits()
    config.Sandbox.memory = "1G"
    config.Sandbox.processes = "64"
    config.Sandbox.file_size = "10M"
    config.Sandbox.open_files = 99
    assert limits_from_config(config) == Limits(memory=1024**3, processes=64, file_size=10 * 1024**2, open_files=99)


def test_submissions_are_found_sorted_and_filtered(tmp_path: Path) -> None:
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    course = Course.load(tmp_path)
    assert grading.discover_submissions(course) == []
    for student, assignment in [("bob", "a2"), ("alice", "a1"), ("bob", "a1"), (".hidden", "a1"), ("bob", ".x")]:
        (tmp_path / "submitted" / student / assignment).mkdir(parents=True)
    (tmp_path / "submitted" / "carl").write_text("a file, not a folder")
    (tmp_path / "submitted" / "alice" / "a0").write_text("a file, not a folder")
    (tmp_path / "submitted" / "alice" / ".a1").mkdir()
    found = grading.discover_submissions(course)
    assert [(s.student, s.assignment) for s in found] == [("alice", "a1"), ("bob", "a1"), ("bob", "a2")]
    assert found[0].path == tmp_path / "submitted" / "alice" / "a1"
    chosen = grading.discover_submissions(course, students=["bob"], assignments=["a1"])
    assert [(s.student, s.assignment) for s in chosen] == [("bob", "a1")]
    assert [s.student for s in grading.discover_submissions(course, assignments=["a1"])] == ["alice", "bob"]
    assert [(s.student, s.assignment) for s in grading.discover_submissions(course, assignments=["a2"])] == [
        ("bob", "a2")]
    assert [s.assignment for s in grading.discover_submissions(course, students=["carl", "bob"])] == ["a1", "a2"]


def test_options_default_to_two_jobs_per_cpu_and_a_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 3)
    options = GradingOptions()
    assert (options.jobs, options.sandbox, options.echo, options.keep_temp) == (6, True, True, False)
    monkeypatch.setattr("os.cpu_count", lambda: None)
    assert GradingOptions().jobs == 2


def test_a_result_reads_back_from_json_ignoring_unknown_keys() -> None:
    result = Result("s", "a", "graded", score=3.0, max_score=10.0, notes=["n"], notebooks={"x": {"score": 3.0}})
    assert Result.from_json(json.loads(json.dumps({"token": "t", **result.to_json()}))) == result
    assert result.graded and not Result("s", "a", "failed").graded
    failed = Result.failed(Submission("s", "a", Path("p")), "why", seconds=2.0)
    assert (failed.status, failed.reason, failed.seconds, failed.sandboxed) == ("failed", "why", 2.0, True)
