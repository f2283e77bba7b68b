"""The course folder: ``nbgrader_config.py``, its directories and gradebook, nbgrader's log."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CONFIG_FILE = "nbgrader_config.py"
GRADES_CSV = "grades.csv"
# Fixed allowance of the hard per-submission limit: worker start, kernel starts, feedback.
SUBMISSION_OVERHEAD = 120.0
# nbgrader's own wait for a cell's last output after the execute reply (nbclient's iopub_timeout).
IOPUB_TIMEOUT = 4.0

log = logging.getLogger("backendlab.grading")


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


# nbgrader's advice for its metadata errors is meant for an instructor's own files ("back up your
# class files directory and run nbgrader update"); in a submission, the student's notebook is at fault.
METADATA_ADVICE = ("nbgrader update", "newer version \nof the nbgrader metadata", "nbgrader metadata format")
METADATA_REASON = ("a notebook's grading metadata is in a form nbgrader cannot read (edited by hand, or saved by "
                   "another nbgrader version): the student should start again from the released notebook")


def explain_nbgrader_failure(records: list[logging.LogRecord], exc: BaseException) -> str:
    """One line saying why nbgrader failed: the last exception line of the traceback it logged."""
    if any(advice in record.getMessage() for record in records for advice in METADATA_ADVICE) or any(
            advice in str(exc) for advice in METADATA_ADVICE):
        return METADATA_REASON
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


