"""The course map (``book/course-map.md``), generated from the chapters themselves.

Each chapter states its minutes (``**Time:** N min teaching, M min exercises``), its objectives,
its Try-it exercises (``Try it: <what> (<N> min)``) and its graded assignment; this module reads
them and writes one page an instructor can plan with: what each chapter teaches, how long it takes,
and three ways to cut the course (one day, three days, ten weeks) with the minutes added up.
``tests/test_course_map.py`` fails when the committed page differs from what the chapters say:
``make course-map`` writes it again.

    python -m backendlab.course_map book/course-map.md
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
TIME_LINE = re.compile(r"\*\*Time:\*\* (?P<teaching>\d+) min teaching, (?P<exercises>\d+) min exercises")
TRY_IT = re.compile(r"```\{admonition\} Try it: (?P<title>.+?) \((?P<minutes>\d+) min\)")
# A graded assignment's length is the course authors' estimate, not a measurement: say so on the page.
ASSIGNMENT_MINUTES = 60


@dataclass(frozen=True)
class Chapter:
    stem: str
    title: str
    teaching: int | None
    exercises: int | None
    objectives: tuple[str, ...]
    try_its: tuple[tuple[str, int], ...]
    assignment: str | None

    @property
    def minutes(self) -> int | None:
        return None if self.teaching is None else self.teaching + (self.exercises or 0)


def chapters_in_book_order(root: Path = ROOT) -> list[str]:
    """Stems of the chapter notebooks in the order of ``_toc.yml``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return [f.split("/", 1)[1] for f in files if f.startswith("notebooks/") and (root / f"{f}.ipynb").exists()]


def read_chapter(stem: str, root: Path = ROOT) -> Chapter:
    notebook = nbformat.read(root / "notebooks" / f"{stem}.ipynb", as_version=4)
    text = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    first = notebook.cells[0].source
    title = first.splitlines()[0].lstrip("# ").strip()
    time = TIME_LINE.search(first)
    objectives = re.search(r"```\{admonition\} Objectives\n(?::\w+:[^\n]*\n)*(.*?)```", text, re.S)
    items: list[str] = []
    for line in objectives.group(1).splitlines() if objectives else []:
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif items and line.strip():
            items[-1] += " " + line.strip()  # a wrapped item
    try_its = tuple((m["title"], int(m["minutes"])) for m in TRY_IT.finditer(text))
    assignments = sorted((root / "exercises").glob(f"*/{stem}.ipynb"))
    assignment = assignments[0].relative_to(root).as_posix() if assignments else None
    return Chapter(stem, title, int(time["teaching"]) if time else None, int(time["exercises"]) if time else None,
                   tuple(items), try_its, assignment)


def _hours(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _plan_line(name: str, chapters: list[Chapter], with_assignments: bool) -> str:
    known = [c for c in chapters if c.minutes is not None]
    minutes = sum(c.minutes for c in known)  # type: ignore[misc]
    assignments = [c for c in chapters if c.assignment] if with_assignments else []
    minutes += ASSIGNMENT_MINUTES * len(assignments)
    unknown = [c.title.split(":")[0] for c in chapters if c.minutes is None]
    note = f" (not counted: {', '.join(unknown)}, whose minutes are not stated yet)" if unknown else ""
    graded = f" and {len(assignments)} graded assignments" if assignments else ""
    return f"{name}: {', '.join(c.title.split(':')[0] for c in chapters)}{graded}: {_hours(minutes)}{note}."


def _three_days(chapters: list[Chapter]) -> tuple[list[Chapter], list[Chapter], list[Chapter]]:
    """Chapters in book order cut into three consecutive days whose longest day is shortest."""
    minutes = [c.minutes or 0 for c in chapters]
    best: tuple[int, int, int] | None = None
    for i in range(1, len(chapters) - 1):
        for j in range(i + 1, len(chapters)):
            longest = max(sum(minutes[:i]), sum(minutes[i:j]), sum(minutes[j:]))
            if best is None or longest < best[0]:
                best = (longest, i, j)
    assert best is not None, "three days need at least three chapters"
    _, i, j = best
    return chapters[:i], chapters[i:j], chapters[j:]


def render(root: Path = ROOT) -> str:
    chapters = [read_chapter(stem, root) for stem in chapters_in_book_order(root)]
    by_stem = {c.stem: c for c in chapters}
    lines = [
        "# Course map",
        "",
        "What each chapter teaches, the exercises that practise it and the graded assignment that checks",
        "it, with the minutes each chapter states. This page is generated from the chapters",
        "(`python -m backendlab.course_map book/course-map.md`, run by `make course-map`); a test fails",
        "when it is out of date.",
        "",
        "| Chapter | What the learner can do after it | Try it (minutes) | Graded assignment | Minutes |",
        "|---|---|---|---|---|",
    ]
    for c in chapters:
        skills = "<br>".join(c.objectives) or "(not stated)"
        try_its = "<br>".join(f"{title} ({minutes})" for title, minutes in c.try_its) or "none yet"
        graded = f"`{c.assignment}`" if c.assignment else ""
        minutes = "not stated yet" if c.minutes is None else f"{c.teaching} + {c.exercises} = {c.minutes}"
        lines.append(f"| [{c.title}](../notebooks/{c.stem}.ipynb) | {skills} | {try_its} | {graded} | {minutes} |")
    total = sum(c.minutes or 0 for c in chapters)
    stated = sum(c.minutes is not None for c in chapters)
    lines += [
        "",
        f"Minutes are teaching + exercises, as each chapter states them ({stated} of {len(chapters)} chapters",
        f"state them so far: {_hours(total)} in all). A graded assignment is counted as {ASSIGNMENT_MINUTES} minutes:",
        "that is the course authors' estimate, not a measurement.",
        "",
        "## Three ways to run it",
        "",
    ]
    groups = {
        "lightweight": ["flask", "fastapi"], "full-stack": ["django", "pyramid"],
        "async": ["tornado", "sanic"], "specialized": ["bottle", "cherrypy"],
    }

    def pick(*stems: str) -> list[Chapter]:
        return [by_stem[s] for s in stems if s in by_stem]

    first, second, third = _three_days(chapters)
    lines += [
        "- " + _plan_line("**One day** (one group, then the decision)",
                          pick("introduction", *groups["lightweight"], "choosing"), with_assignments=False),
        "- **Three days**, every chapter in book order, cut where the days come out most even; the",
        "  graded assignments are homework. " + _plan_line("Day 1", first, False),
        "  " + _plan_line("Day 2", second, False) + " " + _plan_line("Day 3", third, False),
        "- **Ten weeks**, one session a week: week 1 the introduction; weeks 2 to 9 one framework chapter",
        "  each, in book order, with the group's graded assignment due after its second chapter (weeks 3,",
        "  5, 7 and 9); week 10 the benchmark and choosing chapters. "
        + _plan_line("In all", chapters, True),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else ROOT / "book" / "course-map.md"
    target.write_text(render())
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
