"""The command line: ``python -m backendlab.grading {generate,check,grade}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backendlab.grading.batch import grade
from backendlab.grading.course import Course, absolute_db_url
from backendlab.grading.generate import check_exercises, generate
from backendlab.grading.report import GRADES_CSV
from backendlab.grading.results import GradingOptions, default_jobs
from backendlab.grading.sandbox import SandboxUnavailable
from backendlab.grading.worker import serve_worker

DESCRIPTION = "Exercises and autograding for Backend Lab, built on nbgrader."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backendlab.grading", description=DESCRIPTION)
    parser.add_argument("--course", type=Path, default=Path("."), help="the course folder (default: .)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{generate,check,grade}")

    gen = commands.add_parser("generate", help="regenerate the release folder (exercises/) from solutions/")
    gen.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    gen.add_argument("--release-dir", type=Path, help="write here instead of the course's release folder")
    gen.add_argument("--db-url", help="record assignments in this gradebook instead of the course's")

    commands.add_parser("check", help="exit 1 if exercises/ is not exactly what generate writes")

    grd = commands.add_parser("grade", help="autograde submitted/<student>/<assignment>/")
    grd.add_argument("--jobs", "-j", type=int, default=default_jobs(),
                     help="submissions graded at the same time (default: twice the number of CPUs)")
    grd.add_argument("--cell-timeout", type=int,
                     help="seconds per cell (default: Execute.timeout in nbgrader_config.py)")
    grd.add_argument("--submission-timeout", type=float,
                     help="hard limit in seconds per submission (default: every cell's timeout added up, plus 2 min)")
    grd.add_argument("--student", action="append", help="only this student (repeatable)")
    grd.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    grd.add_argument("--csv", type=Path, help=f"where to write the scores (default: {GRADES_CSV} in the course)")
    grd.add_argument("--temp-dir", type=Path, help="where to put the temporary courses (default: system temp)")
    grd.add_argument("--keep-temp", action="store_true", help="keep the temporary courses, for debugging")
    grd.add_argument("--unsafe-no-sandbox", action="store_true",
                     help="grade without the bubblewrap sandbox (student code can then reach everything you can); "
                          "every row of grades.csv says so")
    grd.add_argument("--show-hidden-tests", action="store_true",
                     help="show the source of hidden tests in the feedback (default: only their outcome and message)")

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
        sandbox=not args.unsafe_no_sandbox,
        show_hidden_tests=True if args.show_hidden_tests else None,
    )
    try:
        grade(course, options, students=args.student, assignments=args.assignment, csv_path=args.csv)
    except SandboxUnavailable as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
