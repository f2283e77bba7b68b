"""Exercises and autograding for Backend Lab, built on nbgrader.

::

    python -m backendlab.grading generate   # solutions/<a>/ -> exercises/<a>/, reproducibly  (make exercises)
    python -m backendlab.grading check      # exit 1 if exercises/ is not what generate would write
    python -m backendlab.grading grade      # autograde submitted/<student>/<a>/                (make grade)

The parts:

* :mod:`~backendlab.grading.course` — the course folder and its ``nbgrader_config.py``;
* :mod:`~backendlab.grading.generate` — the student versions, a pure function of ``solutions/``;
* :mod:`~backendlab.grading.sandbox` — the bubblewrap sandbox each student's kernel runs in;
* :mod:`~backendlab.grading.execute` — nbgrader's Execute, guarded: the grader judges each test
  cell from the kernel's replies, outside the sandbox;
* :mod:`~backendlab.grading.notebooks` — submitted notebooks checked and repaired before grading;
* :mod:`~backendlab.grading.feedback` — feedback without hidden test source;
* :mod:`~backendlab.grading.worker` — the process that grades one submission after another;
* :mod:`~backendlab.grading.batch` — a whole run: templates, workers, merging into the gradebook;
* :mod:`~backendlab.grading.report` — ``grades.csv``, the notes kept per submission, the summary;
* :mod:`~backendlab.grading.cli` — the command line.
"""

from backendlab.grading.batch import grade, merge_result
from backendlab.grading.cli import main
from backendlab.grading.course import Course, absolute_db_url
from backendlab.grading.generate import check_exercises, compare_trees, generate
from backendlab.grading.notebooks import check_notebooks
from backendlab.grading.results import GradingOptions, Result, Submission, discover_submissions
from backendlab.grading.sandbox import Limits, SandboxUnavailable, check_sandbox
from backendlab.grading.worker import kill_process_tree

__all__ = [
    "Course",
    "GradingOptions",
    "Limits",
    "Result",
    "SandboxUnavailable",
    "Submission",
    "absolute_db_url",
    "check_exercises",
    "check_notebooks",
    "check_sandbox",
    "compare_trees",
    "discover_submissions",
    "generate",
    "grade",
    "kill_process_tree",
    "main",
    "merge_result",
]
