"""What a grading run reports: ``grades.csv``, the notes kept per submission, the summary."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path
from typing import Any

from backendlab.grading.course import Course
from backendlab.grading.results import Result

GRADES_CSV = "grades.csv"
# Notes and failure reasons per submission, kept across runs (a regrade of one student keeps the
# others'): {assignment: {student: {"notes": [...], "reason": str, "sandboxed": bool, "graded_at": str}}}
NOTES_JSON = "grading-notes.json"
UNSAFE = "none (graded with --unsafe-no-sandbox)"


def notes_path(course: Course) -> Path:
    return course.root / NOTES_JSON


def load_notes(course: Course) -> dict[str, dict[str, dict[str, Any]]]:
    """The notes store; an unreadable one is set aside (and a fresh one started), never fatal."""
    path = notes_path(course)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    except (OSError, ValueError):
        pass
    path.rename(path.with_name(f"{NOTES_JSON}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}"))
    return {}


def update_notes(course: Course, results: list[Result]) -> None:
    """Record this run's notes per submission; other submissions' notes stay."""
    store = load_notes(course)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    for result in results:
        store.setdefault(result.assignment, {})[result.student] = {
            "notes": list(result.notes), "reason": result.reason, "status": result.status,
            "sandboxed": result.sandboxed, "graded_at": stamp,
        }
    path = notes_path(course)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(store, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)


CSV_COLUMNS = [
    # nbgrader export's columns, in its order ...
    "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
    "raw_score", "late_submission_penalty", "score", "max_score",
    # ... and what this grader adds
    "status", "needs_manual_grade", "sandbox", "notes",
]


def write_grades_csv(course: Course, results: list[Result], path: Path) -> int:
    """Write every (assignment, student) of the gradebook, this batch's and earlier runs' failures; return rows."""
    from nbgrader.api import Gradebook, MissingEntry

    this_batch = {(r.assignment, r.student): r for r in results}
    store = load_notes(course)
    rows = []
    with Gradebook(course.db_url, course.course_id) as gb:
        assignments = {a.name: a for a in gb.assignments}
        students = {s.id: s for s in gb.students}
        names = set(assignments) | {r.assignment for r in results} | set(store)
        for assignment_name in sorted(names):
            assignment = assignments.get(assignment_name)
            batch_students = {r.student for r in results if r.assignment == assignment_name}
            for student_id in sorted(set(students) | batch_students | set(store.get(assignment_name, {}))):
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
                kept = store.get(assignment_name, {}).get(student_id)
                if result is None and kept:
                    row["notes"] = "; ".join(kept.get("notes", []))
                sandboxed = result.sandboxed if result else (kept or {}).get("sandboxed")
                if sandboxed is not None:
                    row["sandbox"] = "bubblewrap" if sandboxed else UNSAFE
                if result is not None and not result.graded:
                    row.update(status="failed", notes="; ".join([result.reason, *result.notes]))
                    rows.append(row)
                    continue
                try:
                    submission = gb.find_submission(assignment_name, student_id) if assignment else None
                except MissingEntry:
                    submission = None
                if submission is None and result is None and kept and kept.get("status") == "failed":
                    row.update(status="failed", notes="; ".join([kept.get("reason", ""), *kept.get("notes", [])]))
                elif submission is None:
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
    if any(not r.sandboxed for r in results):
        lines.append("WARNING: graded without a sandbox (--unsafe-no-sandbox); grades.csv says so in every row")
    lines.append(f"Scores: {csv_path} ({rows} row(s)); feedback: {course.feedback}/<student>/<assignment>/; "
                 f"notes: {notes_path(course)}")
    return "\n".join(lines)


