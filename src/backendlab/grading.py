"""Exercises and autograding for Backend Lab, built on nbgrader.

::

    python -m backendlab.grading generate   # solutions/<a>/ -> exercises/<a>/, reproducibly  (make exercises)
    python -m backendlab.grading check      # exit 1 if exercises/ is not what generate would write
    python -m backendlab.grading grade      # autograde submitted/<student>/<a>/                (make grade)

``generate`` runs nbgrader's ``generate_assignment`` for every assignment under the source
directory (``solutions/``), which also records the assignment in the gradebook, then rewrites
every generated notebook in one canonical form, so the release directory (``exercises/``) is a
pure function of ``solutions/``.

``grade`` autogrades every submission, several at a time. nbgrader itself is not safe to run in
parallel on one course (one SQLite gradebook: "database is locked"; one ``autograded/`` tree),
so each submission is graded in an isolated copy of the course:

1. once per assignment, a *template* course: the assignment's source notebooks and a fresh
   gradebook holding only the assignment (no student data);
2. per submission, a temporary course with a copy of that gradebook (kept outside the course
   folder) and a copy of the submission, graded by a worker process (nbgrader's ``Autograde``
   and ``GenerateFeedback`` converters, in-process) in its own session, with a hard wall-clock
   limit after which the worker and every kernel under it are killed. ``--jobs`` workers run at
   once, each reused for submission after submission (nbgrader is imported once per worker);
3. the parent merges each result into the real gradebook (only the parent writes it), copies
   the autograded notebooks and the feedback HTML back, and finally writes ``grades.csv``.

The worker replaces nbgrader's ``Execute`` preprocessor with :class:`GuardedExecute`, which
keeps grading when a kernel dies or ignores the timeout interrupt (the remaining cells are
marked as not run instead of failing the whole notebook) and caps the output kept per cell.
Before nbgrader runs, the worker puts deleted read-only cells (test cells included) back and sets
unreadable notebooks aside; afterwards it reports what it found: deleted or edited test cells,
unreadable notebooks, timeouts, dead kernels, files written outside the submission's folder.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import copy
import csv
import dataclasses
import filecmp
import fnmatch
import json
import logging
import os
import queue
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import nbformat

from backendlab.notebook_runner import KERNELSPEC, use_kernel_env

__all__ = [
    "Course",
    "GradingOptions",
    "Result",
    "check_exercises",
    "discover_submissions",
    "generate",
    "grade",
    "main",
]

CONFIG_FILE = "nbgrader_config.py"
GRADES_CSV = "grades.csv"
# Seconds a kernel gets, after a timed-out cell was interrupted, to show it is listening again.
INTERRUPT_GRACE = 5.0
# Characters of output (text of stream, display and result messages) kept per cell.
MAX_OUTPUT_CHARS = 100_000
# Fixed allowance of the hard per-submission limit: worker start, kernel starts, feedback.
SUBMISSION_OVERHEAD = 120.0
# nbgrader's own wait for a cell's last output after the execute reply (nbclient's iopub_timeout).
IOPUB_TIMEOUT = 4.0

log = logging.getLogger("backendlab.grading")


# --------------------------------------------------------------------------------------------
# The course: nbgrader_config.py, directories, gradebook
# --------------------------------------------------------------------------------------------

def ensure_tools_on_path() -> None:
    """Put the interpreter's own ``bin`` first on PATH.

    nbgrader creates a new gradebook by running the ``alembic`` executable found on PATH; with
    an interpreter called as ``.venv/bin/python`` from a shell whose venv is not activated, that
    fails after the tables were already created, leaving a gradebook without a version stamp.
    """
    bindir = str(Path(sys.executable).parent)
    parts = os.environ.get("PATH", "").split(os.pathsep)
    if parts[:1] != [bindir]:
        os.environ["PATH"] = os.pathsep.join([bindir, *[p for p in parts if p != bindir]])


def absolute_db_url(url: str, root: Path) -> str:
    """A ``sqlite:///relative/path`` URL made absolute against ``root``; other URLs unchanged."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((root / url[len(prefix):]).resolve())
    return url


def load_course_config(root: Path) -> Any:
    """The traitlets ``Config`` of ``root/nbgrader_config.py`` (empty if there is none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    if not (root / CONFIG_FILE).exists():
        return Config()
    return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()


@dataclasses.dataclass
class Course:
    """An nbgrader course folder, read from its ``nbgrader_config.py``."""

    root: Path
    config: Any
    course_id: str
    source: Path
    release: Path
    submitted: Path
    autograded: Path
    feedback: Path
    db_url: str
    ignore: list[str]
    cell_timeout: int | None

    @classmethod
    def load(cls, root: Path | str = ".") -> Course:
        from nbgrader.coursedir import CourseDirectory

        root = Path(root).resolve()
        config = load_course_config(root)
        quiet = copy.deepcopy(config)
        quiet.CourseDirectory.root = str(root)
        coursedir = CourseDirectory(config=quiet)
        execute = config.get("Execute", {})
        timeout = execute.get("timeout", config.get("ExecutePreprocessor", {}).get("timeout", 30))
        return cls(
            root=root,
            config=config,
            course_id=coursedir.course_id,
            source=root / coursedir.source_directory,
            release=root / coursedir.release_directory,
            submitted=root / coursedir.submitted_directory,
            autograded=root / coursedir.autograded_directory,
            feedback=root / coursedir.feedback_directory,
            db_url=absolute_db_url(coursedir.db_url, root),
            ignore=list(coursedir.ignore),
            cell_timeout=timeout if timeout and timeout > 0 else None,
        )

    def assignments(self) -> list[str]:
        """Assignments under the source directory: folders holding at least one notebook."""
        if not self.source.is_dir():
            return []
        return sorted(
            p.name for p in self.source.iterdir()
            if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb"))
        )

    def coursedir(self, *, root: Path | None = None, release: Path | None = None, db_url: str | None = None) -> Any:
        from nbgrader.coursedir import CourseDirectory

        config = copy.deepcopy(self.config)
        config.CourseDirectory.root = str(root or self.root)  # a relative root makes nbgrader warn
        coursedir = CourseDirectory(config=config)
        if release is not None:
            coursedir.release_directory = str(release)
        coursedir.db_url = db_url or self.db_url
        return coursedir


@contextlib.contextmanager
def nbgrader_log(level: int = logging.WARNING, echo: bool = True) -> Iterator[list[logging.LogRecord]]:
    """Collect what nbgrader's converters log (they log through traitlets' logger)."""
    from traitlets import log as traitlets_log

    records: list[logging.LogRecord] = []

    class Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)
            if echo and record.levelno >= level:
                stamp = time.strftime("%H:%M:%S")
                print(f"{stamp} nbgrader {record.levelname.lower()}: {record.getMessage()}", file=sys.stderr)

    logger = traitlets_log.get_logger()
    handler = Collector(logging.DEBUG)
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def explain_nbgrader_failure(records: list[logging.LogRecord], exc: BaseException) -> str:
    """One line saying why nbgrader failed: the last exception line of the traceback it logged."""
    for record in reversed(records):
        if record.levelno < logging.ERROR:
            continue
        message = record.getMessage()
        if "Traceback (most recent call last)" in message:
            lines = [line for line in message.strip().splitlines() if line.strip()]
            return lines[-1].strip()[:300]
    for record in records:
        if record.levelno >= logging.ERROR:
            return record.getMessage().strip().splitlines()[0][:300]
    return f"{type(exc).__name__}: {exc}"[:300]


# --------------------------------------------------------------------------------------------
# generate: solutions/ -> exercises/
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# The guarded Execute preprocessor (runs inside the worker)
# --------------------------------------------------------------------------------------------

def _guarded_execute_class() -> type:
    """Build :class:`GuardedExecute` lazily: importing nbgrader costs a second."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbclient.util import run_sync
    from nbformat.v4 import output_from_msg
    from nbgrader.preprocessors import Execute
    from traitlets import Float, Integer

    class GuardedExecute(Execute):
        """nbgrader's Execute, made robust for untrusted code.

        * A kernel that dies (``os._exit``, a signal, out of memory) or does not come back after
          the timeout interrupt no longer fails the whole notebook: the cell gets an error
          output, the remaining cells are marked as not run (so their tests score 0), and the
          cells that ran before keep their grades.
        * At most ``max_output_chars`` characters of output are kept per cell.
        * The kernel's process group is killed when the notebook is done, so processes a
          student started do not outlive grading.
        """

        max_output_chars = Integer(MAX_OUTPUT_CHARS, help="Characters of output kept per cell.").tag(config=True)
        interrupt_grace = Float(
            INTERRUPT_GRACE, help="Seconds a kernel gets to answer again after a timed-out cell is interrupted."
        ).tag(config=True)

        #: What happened, per notebook, for the worker's report (one worker grades one submission).
        events: ClassVar[list[dict[str, Any]]] = []

        def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
            self._given_up: str | None = None
            self._output_chars: dict[int, int] = {}
            self._truncated: set[int] = set()
            self._kernel_pgid: int | None = None
            notebook_id = (resources or {}).get("nbgrader", {}).get("notebook", "?")
            self._events: list[str] = []
            try:
                return super().preprocess(nb, resources, km)
            finally:
                self._kill_kernel_group()
                GuardedExecute.events.append({"notebook": notebook_id, "events": self._events})

        # -- cells -----------------------------------------------------------------------

        def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
            if cell.cell_type != "code" or not cell.source.strip():
                return cell, resources
            self._remember_kernel_group()
            label = self._label(cell, index)
            if self._given_up:
                cell.outputs = [self._error("CellNotRun", f"not run: {self._given_up}")]
                return cell, resources
            try:
                cell, resources = super().preprocess_cell(cell, resources, index)
            except DeadKernelError:
                self._give_up(cell, label, f"the kernel died while running {label}", "KernelDied")
                return cell, resources
            except CellTimeoutError:  # nbclient gave up waiting for the interrupted cell's last output
                self._events.append(f"{label} timed out after {self.timeout} s and was interrupted")
                self._give_up(cell, label, f"the kernel did not stop after {label} timed out", "KernelStuck")
                self._shut_down_kernel()
                return cell, resources
            if any(o.get("ename") == "CellTimeoutError" for o in cell.outputs):
                self._events.append(f"{label} timed out after {self.timeout} s and was interrupted")
                if not run_sync(self._async_kernel_answers)(self.interrupt_grace):
                    self._given_up = f"the kernel stopped answering after {label} timed out"
                    self._events.append(self._given_up + "; the cells after it were not run")
                    self._shut_down_kernel()
            return cell, resources

        def _shut_down_kernel(self) -> None:
            with contextlib.suppress(Exception):
                run_sync(self.km.shutdown_kernel)(now=True)
            self._kill_kernel_group()

        def _give_up(self, cell: Any, label: str, reason: str, ename: str) -> None:
            self._given_up = reason
            cell.outputs.append(self._error(ename, reason))
            self._events.append(reason + "; the cells after it were not run")

        async def _async_kernel_answers(self, grace: float) -> bool:
            """True if the kernel answers a no-op request within ``grace`` seconds."""
            from queue import Empty

            msg_id = self.kc.execute("", silent=True, store_history=False, allow_stdin=False)
            deadline = time.monotonic() + grace
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    msg = await self.kc.shell_channel.get_msg(timeout=remaining)
                except Empty:
                    return False
                if msg.get("parent_header", {}).get("msg_id") == msg_id:
                    return True

        # -- output cap ------------------------------------------------------------------

        def output(self, outs: list, msg: dict, display_id: Any, cell_index: int) -> Any:
            msg_type = msg["msg_type"]
            content = msg["content"]
            if msg_type == "stream":
                size = len(content.get("text", ""))
            elif msg_type in ("display_data", "execute_result"):
                size = sum(len(str(value)) for value in content.get("data", {}).values())
            else:
                return super().output(outs, msg, display_id, cell_index)
            used = self._output_chars.get(cell_index, 0)
            self._output_chars[cell_index] = used + size
            if used + size <= self.max_output_chars:
                return super().output(outs, msg, display_id, cell_index)
            if cell_index not in self._truncated:
                self._truncated.add(cell_index)
                room = self.max_output_chars - used
                if msg_type == "stream" and room > 0:
                    outs.append(output_from_msg({**msg, "content": {**content, "text": content["text"][:room]}}))
                outs.append(nbformat.v4.new_output(
                    "stream", name="stdout",
                    text=f"\n[output truncated by the grader: more than {self.max_output_chars} characters]\n",
                ))
                self._events.append(
                    f"cell {cell_index + 1} printed more than {self.max_output_chars} characters; the rest was dropped"
                )
            return None

        # -- helpers ---------------------------------------------------------------------

        @staticmethod
        def _label(cell: Any, index: int) -> str:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            return f"cell {index + 1} ({grade_id})" if grade_id else f"cell {index + 1}"

        @staticmethod
        def _error(ename: str, evalue: str) -> Any:
            return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])

        def _remember_kernel_group(self) -> None:
            if self._kernel_pgid is None:
                provisioner = getattr(self.km, "provisioner", None)
                pgid = getattr(provisioner, "pgid", None)
                if pgid and pgid != os.getpgid(0):
                    self._kernel_pgid = pgid

        def _kill_kernel_group(self) -> None:
            if self._kernel_pgid:
                with contextlib.suppress(OSError):
                    os.killpg(self._kernel_pgid, signal.SIGKILL)

    return GuardedExecute


# --------------------------------------------------------------------------------------------
# Submissions and results
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path


@dataclasses.dataclass
class Result:
    """The outcome of grading one submission."""

    student: str
    assignment: str
    status: str  # "graded" or "failed"
    score: float | None = None
    max_score: float | None = None
    needs_manual_grade: bool = False
    reason: str = ""  # why grading failed
    notes: list[str] = dataclasses.field(default_factory=list)
    notebooks: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    timestamp: str | None = None
    seconds: float = 0.0

    @property
    def graded(self) -> bool:
        return self.status == "graded"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in fields})

    @classmethod
    def failed(cls, submission: Submission, reason: str, **kwargs: Any) -> Result:
        return cls(submission.student, submission.assignment, "failed", reason=reason, **kwargs)


def discover_submissions(
    course: Course, *, students: Iterable[str] | None = None, assignments: Iterable[str] | None = None
) -> list[Submission]:
    """Every ``submitted/<student>/<assignment>/`` folder, sorted, optionally filtered."""
    wanted_students = set(students) if students else None
    wanted_assignments = set(assignments) if assignments else None
    found = []
    if not course.submitted.is_dir():
        return found
    for student_dir in sorted(course.submitted.iterdir()):
        if not student_dir.is_dir() or student_dir.name.startswith("."):
            continue
        if wanted_students is not None and student_dir.name not in wanted_students:
            continue
        for assignment_dir in sorted(student_dir.iterdir()):
            if not assignment_dir.is_dir() or assignment_dir.name.startswith("."):
                continue
            if wanted_assignments is not None and assignment_dir.name not in wanted_assignments:
                continue
            found.append(Submission(student_dir.name, assignment_dir.name, assignment_dir))
    return found


@dataclasses.dataclass
class GradingOptions:
    jobs: int = dataclasses.field(default_factory=lambda: max(1, os.cpu_count() or 1))
    cell_timeout: int | None = None  # None: Execute.timeout of nbgrader_config.py
    submission_timeout: float | None = None  # None: computed from the cells of the assignment
    interrupt_grace: float | None = None  # None: GuardedExecute.interrupt_grace of the config, or 5 s
    max_output_chars: int | None = None  # None: GuardedExecute.max_output_chars of the config, or 100000
    keep_temp: bool = False
    temp_dir: Path | None = None  # where the temporary courses go (default: the system's temp folder)
    echo: bool = True


# --------------------------------------------------------------------------------------------
# Templates: one gradebook per assignment, without student data
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# The worker: grades one submission in an isolated course (python -m backendlab.grading worker)
# --------------------------------------------------------------------------------------------

def _tree_state(root: Path, skip: list[Path]) -> dict[str, tuple[int, int]]:
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        current = Path(dirpath)
        dirnames[:] = [d for d in dirnames if current / d not in skip]
        for name in filenames:
            path = current / name
            with contextlib.suppress(OSError):
                info = path.lstat()
                state[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return state


def _locked_cells(notebook: nbformat.NotebookNode) -> list[tuple[str, nbformat.NotebookNode]]:
    return [
        (cell.metadata["nbgrader"]["grade_id"], cell)
        for cell in notebook.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("locked") and cell.metadata["nbgrader"].get("grade_id")
    ]


def _check_notebooks(submitted: Path, release: Path) -> list[str]:
    """Look at the submitted notebooks before nbgrader does; return notes for the report.

    * An unreadable notebook is moved aside, so nbgrader scores it 0 as missing instead of
      failing the whole submission.
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
        except Exception as exc:  # JSON errors, wrong structure, wrong format version
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            path.rename(path.with_name(path.name + ".unreadable"))
            notes.append(f"{name}.ipynb is not a readable notebook ({message[:160]}): 0 points for it")
            continue
        reference = nbformat.read(release / f"{name}.ipynb", as_version=4)
        originals = _locked_cells(reference)
        present = {}
        for cell in notebook.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
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
        if restored:
            nbformat.write(notebook, path)
    return notes


def use_fast_alembic_version() -> None:
    """Read the gradebook schema's revision with alembic's Python API.

    A new gradebook gets an ``alembic_version`` row from ``nbgrader.api.get_alembic_version``,
    which runs the ``alembic`` executable in a subprocess every time (about a second, and it
    needs the venv on PATH). The revision is a constant of the installed nbgrader.
    """
    import functools

    import nbgrader.api
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader import dbutil

    if getattr(nbgrader.api.get_alembic_version, "_backendlab", False):
        return

    @functools.cache
    def head() -> str:
        config = AlembicConfig()
        config.set_main_option("script_location", dbutil.ALEMBIC_DIR)
        return ScriptDirectory.from_config(config).get_current_head()

    head._backendlab = True  # type: ignore[attr-defined]
    nbgrader.api.get_alembic_version = head


def grade_here(spec: dict[str, Any]) -> Result:
    """Grade the submission described by ``spec`` in its temporary course (runs in a worker)."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    root = Path(spec["root"])
    os.chdir(root)
    student, assignment = spec["student"], spec["assignment"]
    result = Result(student, assignment, "failed")

    guarded = _guarded_execute_class()
    guarded.events = []
    config = load_course_config(Path(spec["config_root"]))
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = spec["db_url"]
    if spec.get("cell_timeout"):
        config.GuardedExecute.timeout = int(spec["cell_timeout"])
    if spec.get("interrupt_grace") is not None:
        config.GuardedExecute.interrupt_grace = float(spec["interrupt_grace"])
    if spec.get("max_output_chars") is not None:
        config.GuardedExecute.max_output_chars = int(spec["max_output_chars"])
    config.Autograde.autograde_preprocessors = [
        guarded, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,
        CheckCellMetadata,
    ]
    course = Course.load(Path(spec["config_root"]))
    coursedir = course.coursedir(root=root, db_url=spec["db_url"])
    coursedir.assignment_id, coursedir.student_id = assignment, student
    for name in ("submitted_directory", "autograded_directory", "feedback_directory", "source_directory"):
        setattr(coursedir, name, spec["dirs"][name])

    submitted = root / spec["dirs"]["submitted_directory"] / student / assignment
    own_folders = [
        root / spec["dirs"]["autograded_directory"] / student / assignment,
        root / spec["dirs"]["feedback_directory"] / student / assignment,
    ]
    result.notes.extend(_check_notebooks(submitted, Path(spec["release"])))
    if not any(submitted.glob("*.ipynb")):
        expected = ", ".join(sorted(p.name for p in Path(spec["release"]).glob("*.ipynb")))
        result.reason = f"the submission holds no readable notebook of the assignment (expected {expected})"
        return result
    watched = [root, Path(spec["db_url"][len("sqlite:///"):]).parent]
    before = [_tree_state(folder, own_folders) for folder in watched]

    autograde = Autograde(coursedir=coursedir, config=config)
    autograde.force = True
    autograde.create_student = True
    with nbgrader_log(level=logging.INFO) as records:
        try:
            autograde.start()
        except Exception as exc:
            result.reason = explain_nbgrader_failure(records, exc)
    for entry in guarded.events:
        result.notes.extend(f"{entry['notebook']}.ipynb: {event}" for event in entry["events"])
    after = [_tree_state(folder, own_folders) for folder in watched]
    strays = []
    for folder, old, new in zip(watched, before, after, strict=True):
        for name in sorted(set(old) | set(new)):
            if old.get(name) == new.get(name):
                continue
            if folder == root:
                strays.append(name)
            elif not name.startswith("gradebook.db"):  # nbgrader's own writes (and journal files)
                strays.append(f"<gradebook folder>/{name}")
    if strays:
        shown = ", ".join(strays[:5]) + (f" and {len(strays) - 5} more" if len(strays) > 5 else "")
        result.notes.append(f"the submission wrote files outside its own folder (ignored): {shown}")
    if result.reason:
        return result

    feedback = GenerateFeedback(coursedir=coursedir, config=config)
    feedback.force = True
    with nbgrader_log(level=logging.INFO) as records:
        try:
            feedback.start()
        except Exception as exc:
            result.notes.append(f"no feedback: {explain_nbgrader_failure(records, exc)}")

    with Gradebook(spec["db_url"], course.course_id) as gb:
        submission = gb.find_submission(assignment, student)
        result.status = "graded"
        result.score = float(submission.score)
        result.max_score = float(submission.max_score)
        result.needs_manual_grade = bool(submission.needs_manual_grade)
        result.timestamp = submission.timestamp.isoformat() if submission.timestamp else None
        for notebook in submission.notebooks:
            result.notebooks[notebook.name] = {
                "score": float(notebook.score),
                "max_score": float(notebook.max_score),
                "late_submission_penalty": notebook.late_submission_penalty,
                "grades": {
                    grade.name: {
                        "auto_score": grade.auto_score,
                        "max_score": float(grade.max_score),
                        "needs_manual_grade": bool(grade.needs_manual_grade),
                    }
                    for grade in notebook.grades
                },
                "comments": {comment.name: comment.auto_comment for comment in notebook.comments},
            }
    return result


def serve_worker(result_fd: int) -> int:
    """The worker process: grade one submission per request line on stdin, until stdin closes.

    A request is ``{"spec": <path>, "token": <secret>}``. The result goes back, with the token,
    as one JSON line on ``result_fd``, a pipe only this process holds: kernels inherit neither
    it (jupyter_client closes other descriptors) nor stdin (they get a pipe of their own), so
    student code can neither read the token nor forge a result.
    """
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    ensure_tools_on_path()
    use_kernel_env()
    use_fast_alembic_version()
    _guarded_execute_class()  # import nbgrader and nbconvert once, before the first request
    with os.fdopen(result_fd, "w", encoding="utf-8") as results:
        for line in sys.stdin:
            if not line.strip():
                continue
            request = json.loads(line)
            spec = json.loads(Path(request["spec"]).read_text())
            started = time.monotonic()
            print(f"{time.strftime('%H:%M:%S')} grading {spec['student']}/{spec['assignment']}", file=sys.stderr)
            try:
                result = grade_here(spec)
            except Exception as exc:  # report it: the parent must get an answer for every request
                log.exception("grading failed")
                result = Result(spec["student"], spec["assignment"], "failed",
                                reason=f"internal grader error: {type(exc).__name__}: {exc}")
            result.seconds = round(time.monotonic() - started, 2)
            results.write(json.dumps({"token": request["token"], **result.to_json()}) + "\n")
            results.flush()
    return 0


# --------------------------------------------------------------------------------------------
# The parent: run workers, merge results
# --------------------------------------------------------------------------------------------

def kill_process_tree(pid: int) -> None:
    """SIGKILL a process, its descendants and their process groups (kernels run in their own)."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        processes = []
    own_group = os.getpgid(0)
    groups = set()
    for process in processes:
        with contextlib.suppress(OSError, psutil.Error):
            groups.add(os.getpgid(process.pid))
    with contextlib.suppress(OSError):
        groups.add(os.getpgid(pid))
    for group in groups - {own_group}:
        with contextlib.suppress(OSError):
            os.killpg(group, signal.SIGKILL)
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()
    # Reap only the descendants: the caller reaps ``pid`` itself (a child reaped here would
    # look to subprocess as if it had exited with code 0).
    psutil.wait_procs(processes[1:], timeout=5)


def _tail(path: Path, since: int = 0, lines: int = 3) -> str:
    """The last lines written to a log file after offset ``since``, on one line."""
    with contextlib.suppress(OSError):
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(since, handle.tell() - 4000))
            text = handle.read().decode("utf-8", "replace")
        return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:])[:400]
    return ""


class Worker:
    """A grading worker process (``python -m backendlab.grading worker``), reused for many submissions.

    Importing nbgrader and nbconvert takes a few seconds of CPU; a worker pays it once, not once
    per submission. It runs in a session of its own; its kernels run in theirs (jupyter_client).
    """

    def __init__(self, folder: Path, number: int) -> None:
        self.log_path = folder / f"worker-{number}.log"
        self._log = self.log_path.open("ab")
        read_end, write_end = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backendlab.grading", "worker", "--result-fd", str(write_end)],
            cwd=folder,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            start_new_session=True,
        )
        os.close(write_end)
        self._results = os.fdopen(read_end, "rb")

    def grade(self, spec_path: Path, submission: Submission, limit: float) -> Result:
        """Send one request and wait at most ``limit`` seconds; kill the worker if it overruns."""
        token = secrets.token_hex(16)
        since = self.log_path.stat().st_size
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps({"spec": str(spec_path), "token": token}).encode() + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        ready, _, _ = select.select([self._results], [], [], limit)
        line = self._results.readline() if ready else b""
        if not ready:
            self.kill()
            return Result.failed(
                submission,
                f"grading took longer than the hard limit of {limit:g} s; the grader and its kernels were killed",
            )
        try:
            data = json.loads(line) if line else {}
        except ValueError:
            data = {}
        if data.get("token") == token:
            return Result.from_json(data)
        self.kill()  # no answer, or not from this worker: the worker died or was tampered with
        code = self.process.returncode
        how = f"was killed by signal {signal.Signals(-code).name}" if code and code < 0 else f"exited with code {code}"
        return Result.failed(submission, f"the grader process {how} without a result: {_tail(self.log_path, since)}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """Let the worker finish (it exits when its stdin closes), then make sure nothing is left."""
        with contextlib.suppress(OSError):
            if self.process.stdin:
                self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.kill()

    def kill(self) -> None:
        kill_process_tree(self.process.pid)
        self.process.wait()
        self._results.close()
        self._log.close()


def grade_in_isolation(
    course: Course, submission: Submission, template: Template, options: GradingOptions, workdir: Path,
    worker: Worker,
) -> tuple[Result, Path]:
    """Grade one submission in a temporary copy of the course, with ``worker``.

    Returns the result and the temporary job folder (its ``course/`` holds the autograded
    notebooks and the feedback).
    """
    started = time.monotonic()
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


CSV_COLUMNS = [
    # nbgrader export's columns, in its order ...
    "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
    "raw_score", "late_submission_penalty", "score", "max_score",
    # ... and what this grader adds
    "status", "needs_manual_grade", "notes",
]


def write_grades_csv(course: Course, results: list[Result], path: Path) -> int:
    """Write every (assignment, student) of the gradebook, plus this batch's failures; return rows."""
    from nbgrader.api import Gradebook, MissingEntry

    this_batch = {(r.assignment, r.student): r for r in results}
    rows = []
    with Gradebook(course.db_url, course.course_id) as gb:
        assignments = {a.name: a for a in gb.assignments}
        students = {s.id: s for s in gb.students}
        names = set(assignments) | {r.assignment for r in results}
        for assignment_name in sorted(names):
            assignment = assignments.get(assignment_name)
            for student_id in sorted(set(students) | {r.student for r in results if r.assignment == assignment_name}):
                student = students.get(student_id)
                result = this_batch.get((assignment_name, student_id))
                row = {
                    "assignment": assignment_name,
                    "duedate": assignment.duedate if assignment else None,
                    "student_id": student_id,
                    "last_name": getattr(student, "last_name", None),
                    "first_name": getattr(student, "first_name", None),
                    "email": getattr(student, "email", None),
                    "max_score": assignment.max_score if assignment else None,
                    "notes": "; ".join(result.notes) if result else "",
                }
                if result is not None and not result.graded:
                    row.update(status="failed", notes="; ".join([result.reason, *result.notes]))
                    rows.append(row)
                    continue
                try:
                    submission = gb.find_submission(assignment_name, student_id) if assignment else None
                except MissingEntry:
                    submission = None
                if submission is None:
                    row.update(raw_score=0.0, late_submission_penalty=0.0, score=0.0, status="not submitted")
                else:
                    penalty = submission.late_submission_penalty or 0.0
                    row.update(
                        timestamp=submission.timestamp,
                        raw_score=submission.score,
                        late_submission_penalty=penalty,
                        score=max(0.0, submission.score - penalty),
                        status="needs manual grading" if submission.needs_manual_grade else "graded",
                        needs_manual_grade=bool(submission.needs_manual_grade),
                    )
                rows.append(row)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if row.get(key) is None else row.get(key) for key in CSV_COLUMNS})
    return len(rows)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


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
        say(f"grading {len(pending)} submission(s) with {jobs} worker(s); cell timeout {cell_timeout} s")
        total = len(submissions)
        for result in results:
            merge_result(course, result, None)
            say(f"[{len(results):>{len(str(total))}}/{total}] {result.student}/{result.assignment}: "
                f"FAILED: {result.reason}")
        lock = threading.Lock()
        idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        workers: list[Worker] = []

        def run(submission: Submission) -> tuple[Result, Path]:
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
                        shutil.rmtree(job, ignore_errors=True)
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
        rows = write_grades_csv(course, results, csv_path)
        elapsed = time.monotonic() - started
        say(summary(results, elapsed, jobs, csv_path, rows, course))
    finally:
        if not options.keep_temp:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def summary(results: list[Result], elapsed: float, jobs: int, csv_path: Path, rows: int, course: Course) -> str:
    graded = [r for r in results if r.graded]
    failed = [r for r in results if not r.graded]
    manual = [r for r in graded if r.needs_manual_grade]
    noted = [r for r in results if r.notes]
    per_minute = 60 * len(results) / elapsed if elapsed > 0 else 0.0
    lines = [
        "",
        f"Graded {len(graded)} of {len(results)} submission(s) in {elapsed:.1f} s with {jobs} worker(s) "
        f"({per_minute:.1f} per minute).",
    ]
    if failed:
        lines.append(f"Failed ({len(failed)}): no score recorded, fix and grade again")
        lines += [f"  {r.student}/{r.assignment}: {r.reason}" for r in failed]
    if manual:
        lines.append(f"Needing manual grading ({len(manual)}): open the formgrader")
        lines += [f"  {r.student}/{r.assignment}" for r in manual]
    if noted:
        lines.append(f"Notes ({len(noted)}):")
        for r in noted:
            lines += [f"  {r.student}/{r.assignment}: {note}" for note in r.notes]
    lines.append(f"Scores: {csv_path} ({rows} row(s)); feedback: {course.feedback}/<student>/<assignment>/")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backendlab.grading", description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=Path("."), help="the course folder (default: .)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{generate,check,grade}")

    gen = commands.add_parser("generate", help="regenerate the release folder (exercises/) from solutions/")
    gen.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    gen.add_argument("--release-dir", type=Path, help="write here instead of the course's release folder")
    gen.add_argument("--db-url", help="record assignments in this gradebook instead of the course's")

    commands.add_parser("check", help="exit 1 if exercises/ is not exactly what generate writes")

    grd = commands.add_parser("grade", help="autograde submitted/<student>/<assignment>/")
    grd.add_argument("--jobs", "-j", type=int, default=max(1, os.cpu_count() or 1),
                     help="submissions graded at the same time (default: number of CPUs)")
    grd.add_argument("--cell-timeout", type=int,
                     help="seconds per cell (default: Execute.timeout in nbgrader_config.py)")
    grd.add_argument("--submission-timeout", type=float,
                     help="hard limit in seconds per submission (default: every cell's timeout added up, plus 2 min)")
    grd.add_argument("--student", action="append", help="only this student (repeatable)")
    grd.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    grd.add_argument("--csv", type=Path, help=f"where to write the scores (default: {GRADES_CSV} in the course)")
    grd.add_argument("--temp-dir", type=Path, help="where to put the temporary courses (default: system temp)")
    grd.add_argument("--keep-temp", action="store_true", help="keep the temporary courses, for debugging")

    wrk = commands.add_parser("worker")  # internal: started by grade
    wrk.add_argument("--result-fd", type=int, required=True)

    args = parser.parse_args(argv)
    if args.command == "worker":
        return serve_worker(args.result_fd)
    course = Course.load(args.course)
    if args.command == "generate":
        db_url = absolute_db_url(args.db_url, Path.cwd()) if args.db_url else None
        chosen = args.assignments or None
        for folder in generate(course, release=args.release_dir, db_url=db_url, assignments=chosen):
            notebooks = ", ".join(sorted(p.name for p in folder.glob("*.ipynb")))
            print(f"generated {folder.relative_to(course.root) if folder.is_relative_to(course.root) else folder}: "
                  f"{notebooks}")
        return 0
    if args.command == "check":
        differences = check_exercises(course)
        for line in differences:
            print(line)
        print("exercises/ is up to date" if not differences else
              "exercises/ differs from solutions/: run make exercises")
        return 1 if differences else 0
    options = GradingOptions(
        jobs=max(1, args.jobs),
        cell_timeout=args.cell_timeout,
        submission_timeout=args.submission_timeout,
        keep_temp=args.keep_temp,
        temp_dir=args.temp_dir,
    )
    grade(course, options, students=args.student, assignments=args.assignment, csv_path=args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
