"""A grading run: templates per assignment, one temporary course per submission, merging back.

nbgrader itself is not safe to run in parallel on one course (one SQLite gradebook: "database is
locked"; one ``autograded/`` tree), so each submission is graded in an isolated copy:

1. once per assignment, a *template* course: the assignment's source notebooks and a fresh
   gradebook holding only the assignment (no student data);
2. per submission, a temporary course with a copy of that gradebook and of the submission,
   graded by a :class:`~backendlab.grading.worker.Worker` whose kernels run in the submission's
   sandbox, with a hard wall-clock limit after which the worker and everything under it are
   killed. ``jobs`` workers run at once, each reused for submission after submission;
3. the parent merges each result into the real gradebook (only the parent writes it), copies
   the autograded notebooks and the feedback HTML back, and writes ``grades.csv`` and the notes.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import fnmatch
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat

from backendlab.grading.course import (
    IOPUB_TIMEOUT,
    SUBMISSION_OVERHEAD,
    Course,
    ensure_tools_on_path,
    use_fast_alembic_version,
)
from backendlab.grading.execute import INTERRUPT_GRACE
from backendlab.grading.generate import generate
from backendlab.grading.report import GRADES_CSV, summary, update_notes, write_grades_csv
from backendlab.grading.results import GradingOptions, Result, Submission, discover_submissions, limits_from_config
from backendlab.grading.sandbox import check_sandbox, socket_folder
from backendlab.grading.worker import Worker
from backendlab.notebook_runner import use_kernel_env


@dataclasses.dataclass
class Template:
    assignment: str
    folder: Path  # holds course/<source>/<assignment>, release/<assignment>, gradebook.db
    source_dir_name: str
    code_cells: int

    @property
    def db(self) -> Path:
        return self.folder / "gradebook.db"

    @property
    def source(self) -> Path:
        return self.folder / "course" / self.source_dir_name / self.assignment

    @property
    def release(self) -> Path:
        return self.folder / "release" / self.assignment


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _copy_ignoring(patterns: list[str]) -> Any:
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {name for name in names if any(fnmatch.fnmatch(name, p) for p in patterns)}
        skipped |= {name for name in names if os.path.islink(os.path.join(directory, name))}
        return skipped

    return ignore


def prepare_template(course: Course, assignment: str, workdir: Path) -> Template:
    from nbgrader.api import Gradebook, MissingEntry

    template = Template(assignment, workdir / f"template-{assignment}", Path(course.source).name, 0)
    shutil.copytree(course.source / assignment, template.source, ignore=_copy_ignoring(course.ignore))
    template_course = dataclasses.replace(course, root=template.folder / "course", source=template.source.parent)
    generate(
        template_course,
        release=template.folder / "release",
        db_url=f"sqlite:///{template.db}",
        assignments=[assignment],
        prune=False,
        echo=False,
    )
    # The assignment's due date (late penalties) lives in the real gradebook.
    with contextlib.suppress(MissingEntry), Gradebook(course.db_url, course.course_id) as gb:
        duedate = gb.find_assignment(assignment).duedate
        if duedate is not None:
            with Gradebook(f"sqlite:///{template.db}", course.course_id) as template_gb:
                template_gb.update_or_create_assignment(assignment, duedate=duedate)
    template.code_cells = sum(
        sum(1 for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        for path in template.release.glob("*.ipynb")
    )
    return template


def submission_limit(template: Template, options: GradingOptions, course: Course) -> float:
    """The hard wall-clock limit for one submission: every cell may use its whole timeout."""
    if options.submission_timeout:
        return options.submission_timeout
    cell_timeout = options.cell_timeout or course.cell_timeout or 60
    grace = options.interrupt_grace
    if grace is None:
        grace = float(course.config.get("GuardedExecute", {}).get("interrupt_grace", INTERRUPT_GRACE))
    return SUBMISSION_OVERHEAD + template.code_cells * (cell_timeout + grace + IOPUB_TIMEOUT)


def grade_in_isolation(
    course: Course, submission: Submission, template: Template, options: GradingOptions, workdir: Path,
    worker: Worker,
) -> tuple[Result, Path | None]:
    """Grade one submission in a temporary copy of the course, with ``worker``.

    Returns the result and the temporary job folder (its ``course/`` holds the autograded
    notebooks and the feedback).
    """
    started = time.monotonic()
    if submission.path.is_symlink():
        return Result.failed(submission, f"{submission.path.name} is a symbolic link, not a folder: not graded"), None
    job = Path(tempfile.mkdtemp(prefix="job-", dir=workdir))
    root = job / "course"
    dirs = {
        "source_directory": Path(course.source).name,
        "submitted_directory": Path(course.submitted).name,
        "autograded_directory": Path(course.autograded).name,
        "feedback_directory": Path(course.feedback).name,
    }
    shutil.copytree(template.source, root / dirs["source_directory"] / submission.assignment)
    shutil.copytree(
        submission.path,
        root / dirs["submitted_directory"] / submission.student / submission.assignment,
        ignore=_copy_ignoring([".ipynb_checkpoints"]),
    )
    db_dir = job / "gradebook"
    db_dir.mkdir()
    shutil.copy2(template.db, db_dir / "gradebook.db")
    limit = submission_limit(template, options, course)
    spec = {
        "student": submission.student,
        "assignment": submission.assignment,
        "root": str(root),
        "config_root": str(course.root),
        "db_url": f"sqlite:///{db_dir / 'gradebook.db'}",
        "dirs": dirs,
        "release": str(template.release),
        "cell_timeout": options.cell_timeout,
        "interrupt_grace": options.interrupt_grace,
        "max_output_chars": options.max_output_chars,
        "sandbox": str(job / "sandbox") if options.sandbox else None,
        "limits": dataclasses.asdict(options.limits or limits_from_config(course.config)),
        "show_hidden_tests": options.show_hidden_tests,
    }
    (job / "spec.json").write_text(json.dumps(spec, indent=1))
    result = worker.grade(job / "spec.json", submission, limit)
    result.seconds = round(time.monotonic() - started, 2)
    # Paths inside the temporary copy mean nothing to the reader of the summary.
    result.reason = result.reason.replace(str(root), "<course copy>")
    result.notes = list(dict.fromkeys(note.replace(str(root), "<course copy>") for note in result.notes))
    if options.keep_temp:
        result.notes.append(f"temporary course kept in {job}")
    return result, job


def _replace_tree(source: Path, destination: Path) -> None:
    if destination.exists():
        shutil.rmtree(destination)
    if source.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, destination)


def merge_result(course: Course, result: Result, job_root: Path | None) -> None:
    """Record one result in the real gradebook and copy its autograded notebooks and feedback."""
    from nbgrader.api import Gradebook

    if not result.graded:
        return  # like nbgrader: what an earlier run recorded (and any manual grades) stays
    autograded = course.autograded / result.student / result.assignment
    feedback = course.feedback / result.student / result.assignment
    with warnings.catch_warnings(), Gradebook(course.db_url, course.course_id) as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's SAWarnings from inside nbgrader's own API
        gb.update_or_create_student(result.student)
        kwargs = {"timestamp": result.timestamp} if result.timestamp else {}
        gb.update_or_create_submission(result.assignment, result.student, **kwargs)
        for name, notebook in result.notebooks.items():
            submitted = gb.find_submission_notebook(name, result.assignment, result.student)
            submitted.late_submission_penalty = notebook["late_submission_penalty"]
            for grade in submitted.grades:
                found = notebook["grades"].get(grade.name)
                if found is None:
                    continue
                grade.auto_score = found["auto_score"]
                grade.needs_manual_grade = found["needs_manual_grade"] or grade.manual_score is not None
            for comment in submitted.comments:
                comment.auto_comment = notebook["comments"].get(comment.name)
        gb.db.commit()
    if job_root is not None:
        _replace_tree(job_root / Path(course.autograded).name / result.student / result.assignment, autograded)
        _replace_tree(job_root / Path(course.feedback).name / result.student / result.assignment, feedback)


def grade(
    course: Course,
    options: GradingOptions | None = None,
    *,
    students: Iterable[str] | None = None,
    assignments: Iterable[str] | None = None,
    csv_path: Path | None = None,
    out: Any = None,
) -> list[Result]:
    """Autograde every submission, merge into the gradebook, write feedback and grades.csv."""
    options = options or GradingOptions()
    out = out or sys.stdout
    if options.sandbox:
        check_sandbox(options.limits or limits_from_config(course.config))  # raises SandboxUnavailable
    ensure_tools_on_path()
    use_fast_alembic_version()
    use_kernel_env()
    submissions = discover_submissions(course, students=students, assignments=assignments)
    csv_path = csv_path or course.root / GRADES_CSV

    def say(text: str) -> None:
        if options.echo:
            print(text, file=out, flush=True)

    if not submissions:
        say(f"nothing to grade: no folders {Path(course.submitted).name}/<student>/<assignment>/ in {course.root}")
        write_grades_csv(course, [], csv_path)
        return []

    started = time.monotonic()
    results: list[Result] = []
    known = set(course.assignments())
    if options.temp_dir is not None:
        Path(options.temp_dir).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="backendlab-grading-", dir=options.temp_dir))
    try:
        templates: dict[str, Template] = {}
        for assignment in sorted({s.assignment for s in submissions} & known):
            say(f"preparing {assignment}: generating it into the gradebook and a clean template")
            generate(course, release=workdir / "synced-release", assignments=[assignment], prune=False, echo=False)
            templates[assignment] = prepare_template(course, assignment, workdir)
        pending = []
        for submission in submissions:
            if submission.assignment not in templates:
                results.append(Result.failed(submission, f"there is no assignment {submission.assignment!r} in "
                                                         f"{Path(course.source).name}/"))
            else:
                pending.append(submission)
        jobs = max(1, min(options.jobs, len(pending) or 1))
        cell_timeout = options.cell_timeout or course.cell_timeout
        limits = options.limits or limits_from_config(course.config)
        where = (f"each in a sandbox ({limits.describe()})" if options.sandbox else
                 "WITHOUT A SANDBOX (--unsafe-no-sandbox): student code can reach everything this account can")
        say(f"grading {len(pending)} submission(s) with {jobs} worker(s); cell timeout {cell_timeout} s; {where}")
        total = len(submissions)
        for result in results:
            merge_result(course, result, None)
            say(f"[{len(results):>{len(str(total))}}/{total}] {result.student}/{result.assignment}: "
                f"FAILED: {result.reason}")
        lock = threading.Lock()
        idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        workers: list[Worker] = []

        def run(submission: Submission) -> tuple[Result, Path | None]:
            try:
                worker = idle.get_nowait()
            except queue.Empty:
                with lock:
                    worker = Worker(workdir, len(workers) + 1)
                    workers.append(worker)
            try:
                return grade_in_isolation(course, submission, templates[submission.assignment], options, workdir,
                                          worker)
            finally:
                if worker.alive:
                    idle.put(worker)

        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(run, s): s for s in pending}
                for future in concurrent.futures.as_completed(futures):
                    submission = futures[future]
                    job: Path | None = None
                    try:
                        result, job = future.result()
                    except Exception as exc:  # a bug here must not stop the batch
                        result = Result.failed(submission, f"internal grader error: {type(exc).__name__}: {exc}")
                    try:
                        merge_result(course, result, job / "course" if job else None)
                    except Exception as exc:
                        result.status = "failed"
                        result.reason = f"could not record the result: {type(exc).__name__}: {exc}"
                    if job is not None and not options.keep_temp:
                        shutil.rmtree(socket_folder(job / "sandbox"), ignore_errors=True)  # a killed worker's
                        shutil.rmtree(job, ignore_errors=True)
                    result.sandboxed = options.sandbox
                    results.append(result)
                    if result.graded:
                        state = f"{_score(result.score)}/{_score(result.max_score)}"
                        if result.needs_manual_grade:
                            state += " (needs manual grading)"
                    else:
                        state = f"FAILED: {result.reason}"
                    extra = f" [{len(result.notes)} note(s)]" if result.notes else ""
                    say(f"[{len(results):>{len(str(total))}}/{total}] {result.student}/{result.assignment}: "
                        f"{state}{extra} ({result.seconds:.1f} s)")
        finally:
            for worker in workers:
                worker.close()
        results.sort(key=lambda r: (r.assignment, r.student))
        for result in results:
            result.sandboxed = options.sandbox
        update_notes(course, results)
        rows = write_grades_csv(course, results, csv_path)
        elapsed = time.monotonic() - started
        say(summary(results, elapsed, jobs, csv_path, rows, course))
    finally:
        if not options.keep_temp:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


