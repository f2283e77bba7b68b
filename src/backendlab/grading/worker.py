"""The grading worker: grades one submission after another in isolated temporary courses.

``python -m backendlab.grading worker --result-fd N`` (started by :class:`Worker`) reads one
request per line on stdin and answers on a pipe only it holds. It runs nbgrader's ``Autograde``
and ``GenerateFeedback`` in-process, outside the sandbox; each notebook's kernel runs inside the
submission's sandbox (:mod:`backendlab.grading.sandbox`), so the scores, the gradebook copy, the
autograded notebooks and the feedback are all written by the worker, out of the student's reach.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from backendlab.grading.course import (
    Course,
    ensure_tools_on_path,
    explain_nbgrader_failure,
    load_course_config,
    nbgrader_log,
    use_fast_alembic_version,
)
from backendlab.grading.execute import guarded_execute_class
from backendlab.grading.notebooks import check_notebooks
from backendlab.grading.results import Result, Submission
from backendlab.grading.sandbox import Limits, Sandbox, UidLease
from backendlab.notebook_runner import KERNEL_ENV, use_kernel_env

log = logging.getLogger("backendlab.grading")

#: As root: the user id this worker's sandboxed kernels run as (see UidLease).
LEASE: UidLease | None = None


def grade_here(spec: dict[str, Any]) -> Result:
    """Grade the submission described by ``spec`` in its temporary course (runs in a worker)."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde, GenerateFeedback
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        GetGrades,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from backendlab.grading.feedback import HideHiddenTests

    root = Path(spec["root"])
    os.chdir(root)
    student, assignment = spec["student"], spec["assignment"]
    result = Result(student, assignment, "failed")

    guarded = guarded_execute_class()
    guarded.events = []
    guarded.sandbox = None
    config = load_course_config(Path(spec["config_root"]))
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = spec["db_url"]
    if spec.get("cell_timeout"):
        config.GuardedExecute.timeout = int(spec["cell_timeout"])
    if spec.get("interrupt_grace") is not None:
        config.GuardedExecute.interrupt_grace = float(spec["interrupt_grace"])
    if spec.get("max_output_chars") is not None:
        config.GuardedExecute.max_output_chars = int(spec["max_output_chars"])
    # The kernel and its sandbox are killed when the notebook is done: no graceful shutdown to wait for.
    config.GuardedExecute.shutdown_kernel = "immediate"
    config.Autograde.autograde_preprocessors = [
        guarded, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades, AssignLatePenalties,
        CheckCellMetadata,
    ]
    config.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTests]
    if spec.get("show_hidden_tests") is not None:
        config.HideHiddenTests.enabled = not spec["show_hidden_tests"]
    course = Course.load(Path(spec["config_root"]))
    coursedir = course.coursedir(root=root, db_url=spec["db_url"])
    coursedir.assignment_id, coursedir.student_id = assignment, student
    for name in ("submitted_directory", "autograded_directory", "feedback_directory", "source_directory"):
        setattr(coursedir, name, spec["dirs"][name])

    submitted = root / spec["dirs"]["submitted_directory"] / student / assignment
    result.notes.extend(check_notebooks(submitted, Path(spec["release"])))
    if not any(submitted.glob("*.ipynb")):
        expected = ", ".join(sorted(p.name for p in Path(spec["release"]).glob("*.ipynb")))
        result.reason = f"the submission holds no readable notebook of the assignment (expected {expected})"
        return result
    if spec.get("sandbox"):
        sandbox = Sandbox(Path(spec["sandbox"]), Limits(**spec["limits"]), uid=LEASE.uid if LEASE else None,
                          env=dict(KERNEL_ENV))
        guarded.sandbox = sandbox.create(submitted)
    else:
        result.sandboxed = False

    autograde = Autograde(coursedir=coursedir, config=config)
    autograde.force = True
    autograde.create_student = True
    with nbgrader_log(level=logging.INFO) as records:
        try:
            autograde.start()
        except Exception as exc:
            result.reason = explain_nbgrader_failure(records, exc)
        finally:
            if guarded.sandbox is not None:
                guarded.sandbox.remove()
    for entry in guarded.events:
        result.notes.extend(f"{entry['notebook']}.ipynb: {event}" for event in entry["events"])
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
    global LEASE
    ensure_tools_on_path()
    use_kernel_env()
    use_fast_alembic_version()
    guarded_execute_class()  # import nbgrader and nbconvert once, before the first request
    if os.geteuid() == 0:
        LEASE = UidLease()
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


