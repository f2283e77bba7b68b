"""Submissions, results and the options of a grading run."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from backendlab.grading.course import Course
from backendlab.grading.sandbox import Limits


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
    sandboxed: bool = True  # False: graded with --unsafe-no-sandbox

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


def default_jobs() -> int:
    """Two submissions per CPU: grading mostly waits (kernels starting, servers answering, timeouts)."""
    return 2 * max(1, os.cpu_count() or 1)


@dataclasses.dataclass
class GradingOptions:
    jobs: int = dataclasses.field(default_factory=default_jobs)
    cell_timeout: int | None = None  # None: Execute.timeout of nbgrader_config.py
    submission_timeout: float | None = None  # None: computed from the cells of the assignment
    interrupt_grace: float | None = None  # None: GuardedExecute.interrupt_grace of the config, or 5 s
    max_output_chars: int | None = None  # None: GuardedExecute.max_output_chars of the config, or 100000
    keep_temp: bool = False
    temp_dir: Path | None = None  # where the temporary courses go (default: the system's temp folder)
    echo: bool = True
    sandbox: bool = True  # False: --unsafe-no-sandbox (every row of grades.csv says so)
    limits: Limits | None = None  # None: the Sandbox section of nbgrader_config.py, or Limits()
    show_hidden_tests: bool | None = None  # None: HideHiddenTests.enabled of the config (hidden by default)


SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$", re.IGNORECASE)


def parse_size(value: int | float | str) -> int:
    """Bytes from ``2147483648``, ``"2G"``, ``"2 GiB"`` or ``"512M"`` (powers of 1024)."""
    if isinstance(value, int | float):
        return int(value)
    found = SIZE.match(str(value))
    if not found:
        raise ValueError(f"not a size: {value!r} (write e.g. 2G, 512M or a number of bytes)")
    return int(float(found.group(1)) * 1024 ** "_KMGT".index(found.group(2).upper() or "_"))


def limits_from_config(config: Any) -> Limits:
    """``c.Sandbox.memory``, ``processes``, ``file_size``, ``open_files`` of nbgrader_config.py."""
    section = config.get("Sandbox", {})
    defaults = Limits()
    return Limits(
        memory=parse_size(section.get("memory", defaults.memory)),
        processes=int(section.get("processes", defaults.processes)),
        file_size=parse_size(section.get("file_size", defaults.file_size)),
        open_files=int(section.get("open_files", defaults.open_files)),
    )


