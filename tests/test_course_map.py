"""The course map page says what the chapters say (it is generated from them)."""

from __future__ import annotations

from pathlib import Path

from backendlab.course_map import chapters_in_book_order, read_chapter, render

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_course_map_is_what_the_chapters_say() -> None:
    committed = (ROOT / "book" / "course-map.md").read_text()
    assert committed == render(), "book/course-map.md is out of date: run `make course-map`"


def test_every_chapter_of_the_book_is_on_the_map_in_book_order() -> None:
    stems = chapters_in_book_order()
    assert stems[0] == "introduction" and stems[-1] == "choosing"
    assert {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")} == set(stems)
    page = render()
    positions = [page.index(f"(../notebooks/{stem}.ipynb)") for stem in stems]
    assert positions == sorted(positions)


def test_minutes_and_exercises_come_from_the_chapter() -> None:
    flask = read_chapter("flask")
    assert flask.assignment == "exercises/01-lightweight/flask.ipynb"
    if flask.teaching is not None:
        assert flask.minutes == flask.teaching + flask.exercises
        assert sum(minutes for _, minutes in flask.try_its) == flask.exercises
        assert f"{flask.teaching} + {flask.exercises} = {flask.minutes}" in render()
