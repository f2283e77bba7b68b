"""The classroom loop on a real JupyterHub (backendlab.classroom, ``make hub``).

One hub on 127.0.0.1 with real local accounts (an instructor and three students), PAM logins,
each user's JupyterLab started by the spawner as that user, nbgrader's exchange:

1. each student follows the course's nbgitpuller link, which puts the course in their home;
2. the instructor generates the exercises and releases an assignment; the students see and fetch it;
3. one student submits a correct solution, one a wrong one, one a hostile one; the instructor
   sees the three submissions, collects them, grades them with ``make grade`` (sandboxed),
   releases the feedback; each student fetches theirs, which shows no hidden test source;
4. a student cannot read another's home or the instructor's course, cannot list the exchange's
   submissions, cannot use the hub's API as an admin, cannot reach the formgrader;
5. in Chromium: a student logs in, fetches an assignment from the Assignments panel, runs its
   visible tests and submits; the instructor's formgrader lists the submission.

It needs root (it creates accounts): elsewhere it skips, saying so, except in CI where it fails.
"""

from __future__ import annotations

import copy
import csv
import html
import json
import pwd
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
import requests
from conftest import skip_or_fail
from grading_corpus import (
    FLASK_PARTIAL,
    LINGERS,
    _add_after,
    _set_source,
    _solution_sources,
    hidden_test_lines,
    writes_outside,
)

from backendlab.classroom import (
    COURSE_ID,
    MARK,
    Account,
    Classroom,
    ClassroomUnavailable,
    check_requirements,
    remove_abandoned_accounts,
)
from backendlab.grading.feedback import hidden_lines_in

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01-lightweight"
BROWSER_ASSIGNMENT = "04-specialized"
ARTIFACTS = ROOT / "_build" / "test-artifacts" / "classroom"  # screenshots, never in the work tree

# The whole loop runs in the set-up of the first test (about 1 to 3 min here, more on a loaded machine).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("classroom"), pytest.mark.timeout(1500)]

# What each student hands in, and the score (out of 20) the grader must give it.
EXPECTED = {
    1: ("correct: the instructor's solutions", 20.0),
    2: ("wrong: no validation in Flask, no async endpoint in FastAPI", 6.0 + 8.0),
    3: ("hostile: Flask solved, then writes aimed at the instructor's course and processes left running", 10.0),
}


@dataclass
class Loop:
    room: Classroom
    timings: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)


def nbgrader(room: Classroom, account: Account, *args: str, cwd: Path | None = None) -> str:
    """Run ``nbgrader`` as ``account`` and return what it printed (it logs to stderr)."""
    result = room.run_as(account, ["nbgrader", *args], cwd=cwd)
    return result.stdout + result.stderr


def login(room: Classroom, account: Account) -> requests.Session:
    """Log in on the hub's login form, as a browser does (the form's _xsrf field, then the cookie)."""
    session = requests.Session()
    page = session.get(f"{room.url}/hub/login", timeout=30)
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    answer = session.post(f"{room.url}/hub/login", timeout=60,
                          data={"username": account.name, "password": account.password, "_xsrf": xsrf})
    assert answer.status_code == 200 and "/hub/login" not in answer.url, (answer.status_code, answer.url)
    return session


def follow_pull_link(room: Classroom, account: Account) -> list[dict[str, Any]]:
    """What a student's browser does with the course link: log in, wait for their server, pull."""
    session = login(room, account)
    landing = f"/user/{account.name}/git-pull"
    deadline = time.monotonic() + 120
    while True:  # the hub shows "spawn pending" until the server answers, then sends the browser on
        page = session.get(room.pull_link(), timeout=30)
        if landing in page.url and page.status_code == 200:
            break
        assert time.monotonic() < deadline, f"{account.name}'s server did not start:\n{room.hub_log()[-3000:]}"
        time.sleep(0.5)
    # nbgitpuller's page then opens this event stream, which runs git and reports each step.
    events = []
    api = page.url.replace("/git-pull?", "/git-pull/api?", 1)
    xsrf = session.cookies.get("_xsrf", path=f"/user/{account.name}/")
    with session.get(api, stream=True, timeout=120, headers={"X-XSRFToken": xsrf}) as stream:
        assert stream.status_code == 200, stream.text
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: "):]))
                if events[-1].get("phase") in ("finished", "error"):
                    break
    return events


def hand_in(room: Classroom, student: Account, notebooks: dict[str, nbformat.NotebookNode]) -> None:
    """Save the student's edited notebooks in their fetched assignment, as their JupyterLab would."""
    for name, notebook in notebooks.items():
        path = student.home / ASSIGNMENT / f"{name}.ipynb"
        path.write_text(nbformat.writes(notebook), encoding="utf-8")
        subprocess.run(["chown", f"{student.name}:{student.name}", str(path)], check=True)


def answers(room: Classroom, number: int) -> dict[str, nbformat.NotebookNode]:
    """The notebooks student ``number`` hands in (see EXPECTED), made from what they fetched."""
    folder = room.student(number).home / ASSIGNMENT
    fetched = {name: nbformat.read(folder / f"{name}.ipynb", as_version=4) for name in ("flask", "fastapi")}

    def solved(name: str) -> nbformat.NotebookNode:
        return solved_notebook(folder / f"{name}.ipynb", ASSIGNMENT)

    if number == 1:
        return {"flask": solved("flask"), "fastapi": solved("fastapi")}
    if number == 2:
        flask, fastapi = copy.deepcopy(fetched["flask"]), solved("fastapi")
        _set_source(flask, "flask-create-app", FLASK_PARTIAL)
        _set_source(fastapi, "fastapi-temperature", "# YOUR CODE HERE\nraise NotImplementedError()")
        return {"flask": flask, "fastapi": fastapi}
    flask = solved("flask")
    _add_after(flask, "flask-create-app", writes_outside(room.instructor.course), "student-writes")
    _add_after(flask, "flask-create-app", LINGERS, "student-lingers")
    return {"flask": flask, "fastapi": fetched["fastapi"]}


# ------------------------------------------------------------------------------ the hub


@pytest.fixture(scope="module")
def room() -> Iterator[Classroom]:
    try:
        check_requirements()
    except ClassroomUnavailable as exc:
        skip_or_fail(f"the JupyterHub classroom cannot run here: {exc}")
    classroom = Classroom(ROOT, students=3, prefix=f"bl{secrets.token_hex(2)}-", test_service=True)
    classroom.start()
    try:
        yield classroom
    finally:
        classroom.stop()


@pytest.fixture(scope="module")
def loop(room: Classroom) -> Loop:
    """The whole loop, once; the tests below check each step from the other side."""
    done = Loop(room)

    def step(name: str, action: Any) -> Any:
        started = time.perf_counter()
        value = action()
        done.timings[name] = round(time.perf_counter() - started, 2)
        return value

    done.timings["hub set-up and start"] = round(room.timings["set-up"] + room.timings["hub start"], 2)
    for student in room.students:
        events = step(f"{student.name}: course link (log in, server start, git pull)",
                      lambda student=student: follow_pull_link(room, student))
        done.outputs[f"pull {student.name}"] = json.dumps(events)
    teacher, course = room.instructor, room.instructor.course
    done.outputs["generate"] = step("instructor: make exercises", lambda: room.run_as(
        teacher, ["make", "exercises", f"ENV_BIN={room.bin}", f"ASSIGNMENTS={ASSIGNMENT} {BROWSER_ASSIGNMENT}"],
        cwd=course).stdout)
    for assignment in (ASSIGNMENT, BROWSER_ASSIGNMENT):
        done.outputs[f"release {assignment}"] = step(f"instructor: release_assignment {assignment}",
                                                     lambda assignment=assignment: nbgrader(
            room, teacher, "release_assignment", assignment, cwd=course))
    done.outputs["student list"] = nbgrader(room, room.student(1), "list", "--course", COURSE_ID)
    for number, student in enumerate(room.students, start=1):
        step(f"{student.name}: fetch_assignment", lambda student=student: nbgrader(
            room, student, "fetch_assignment", ASSIGNMENT, "--course", COURSE_ID))
        hand_in(room, student, answers(room, number))
        step(f"{student.name}: submit", lambda student=student: nbgrader(
            room, student, "submit", ASSIGNMENT, "--course", COURSE_ID))
    done.outputs["inbound"] = nbgrader(room, teacher, "list", "--inbound", cwd=course)
    done.outputs["collect"] = step("instructor: collect", lambda: nbgrader(room, teacher, "collect", ASSIGNMENT,
                                                                           cwd=course))
    done.outputs["grade"] = step("instructor: make grade (sandboxed)", lambda: room.run_as(
        teacher, ["make", "grade", f"ENV_BIN={room.bin}", f"GRADE_FLAGS=--assignment {ASSIGNMENT}"],
        cwd=course, timeout=900).stdout)
    done.outputs["release_feedback"] = step("instructor: release_feedback", lambda: nbgrader(
        room, teacher, "release_feedback", ASSIGNMENT, cwd=course))
    for student in room.students:
        done.outputs[f"fetch_feedback {student.name}"] = step(f"{student.name}: fetch_feedback", lambda
            student=student: nbgrader(room, student, "fetch_feedback", ASSIGNMENT, "--course", COURSE_ID))
    print("\nclassroom loop timings (s):", json.dumps(done.timings, indent=1))
    return done


# ------------------------------------------------------------------------------ the loop


def test_the_course_link_puts_the_course_in_each_home(loop: Loop) -> None:
    for student in loop.room.students:
        events = json.loads(loop.outputs[f"pull {student.name}"])
        assert events[-1]["phase"] == "finished", events
        assert (student.course / "notebooks" / "flask.ipynb").is_file()
        assert (student.course / "exercises" / ASSIGNMENT / "flask.ipynb").is_file()
        owner = subprocess.run(["stat", "-c", "%U", str(student.course)], capture_output=True, text=True).stdout
        assert owner.strip() == student.name


def test_students_see_the_released_assignment(loop: Loop) -> None:
    assert f"{COURSE_ID} {ASSIGNMENT}" in loop.outputs["student list"], loop.outputs["student list"]
    for student in loop.room.students:
        assert sorted(p.name for p in (student.home / ASSIGNMENT).glob("*.ipynb")) == ["fastapi.ipynb", "flask.ipynb"]


def test_the_instructor_sees_every_submission_and_collects_it(loop: Loop) -> None:
    for student in loop.room.students:
        assert re.search(rf"{COURSE_ID} {student.name} {ASSIGNMENT} ", loop.outputs["inbound"]), loop.outputs["inbound"]
        submitted = loop.room.instructor.course / "submitted" / student.name / ASSIGNMENT
        assert (submitted / "flask.ipynb").is_file() and (submitted / "timestamp.txt").is_file()


def test_grades_are_the_expected_ones(loop: Loop) -> None:
    grades = loop.room.instructor.course / "grades.csv"
    rows = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(grades.open(encoding="utf-8"))}
    for number, (what, score) in EXPECTED.items():
        row = rows[(loop.room.student(number).name, ASSIGNMENT)]
        assert (float(row["score"]), row["status"]) == (score, "graded"), f"{what}: {row}"
        assert row["sandbox"] == "bubblewrap", row


def test_the_hostile_submission_changed_nothing_and_left_nothing(loop: Loop) -> None:
    course = loop.room.instructor.course
    for path in (course / "gradebook.db", course / "grades.csv", course / "nbgrader_config.py"):
        assert b"overwritten by another student" not in path.read_bytes(), path
    for sleeper in ("sleep 6001", "sleep 6002", "sleep 6003"):
        found = subprocess.run(["pgrep", "-f", sleeper], capture_output=True, text=True).stdout
        assert found == "", f"{sleeper} survived grading"


def test_each_student_fetches_their_feedback_without_hidden_tests(loop: Loop) -> None:
    for student in loop.room.students:
        pages = sorted((student.home / ASSIGNMENT / "feedback").glob("*/flask.html"))
        assert len(pages) == 1, (loop.outputs[f"fetch_feedback {student.name}"], pages)
        text = html.unescape(re.sub(r"<[^>]+>", "", pages[0].read_text(encoding="utf-8")))
        assert hidden_lines_in(text, hidden_test_lines(ROOT / "solutions", ASSIGNMENT, "flask")) == [], student.name
        assert "hidden tests: their outcome is shown below" in text, text[:800]


# ------------------------------------------------------------------------------ isolation


def test_a_student_cannot_read_other_homes_or_the_course_folder(loop: Loop) -> None:
    room = loop.room
    one, two = room.student(1), room.student(2)
    for target in (two.home, two.home / ASSIGNMENT / "flask.ipynb", room.instructor.course / "solutions",
                   room.instructor.course / "gradebook.db"):
        result = room.run_as(one, ["cat" if target.suffix else "ls", str(target)], check=False)
        assert result.returncode != 0 and "Permission denied" in result.stderr, (target, result)


def test_a_student_cannot_see_other_submissions_in_the_exchange(loop: Loop) -> None:
    room = loop.room
    inbound = room.folder / "exchange" / COURSE_ID / "inbound"
    assert len(list(inbound.iterdir())) == len(room.students)  # root sees the three submissions
    listing = room.run_as(room.student(1), ["ls", str(inbound)], check=False)
    assert listing.returncode != 0 and "Permission denied" in listing.stderr, listing
    mine = nbgrader(room, room.student(1), "list", "--inbound", "--course", COURSE_ID)
    assert room.student(2).name not in mine and room.student(3).name not in mine, mine
    # Nor list the released feedback, nor change what the instructor released.
    feedback = room.run_as(room.student(1), ["ls", str(room.folder / "exchange" / COURSE_ID / "feedback")], check=False)
    assert feedback.returncode != 0 and "Permission denied" in feedback.stderr, feedback
    released = room.folder / "exchange" / COURSE_ID / "outbound" / ASSIGNMENT / "flask.ipynb"
    before = released.read_bytes()
    for command in (["sh", "-c", f"echo tampered > '{released}'"], ["rm", "-f", str(released)]):
        attempt = room.run_as(room.student(1), command, check=False)
        assert attempt.returncode != 0 and "Permission denied" in attempt.stderr, attempt
    assert released.read_bytes() == before


def test_a_student_cannot_use_the_hub_api_as_an_admin(loop: Loop) -> None:
    room = loop.room
    one, two = room.student(1), room.student(2)
    service = {"Authorization": f"token {room.test_service_token}"}
    token = requests.post(f"{room.url}/hub/api/users/{one.name}/tokens", headers=service, timeout=30,
                          json={"note": "test_classroom"}).json()["token"]
    api = {"Authorization": f"token {token}"}
    assert requests.get(f"{room.url}/hub/api/user", headers=api, timeout=30).json()["admin"] is False
    refused = [
        requests.get(f"{room.url}/hub/api/users", headers=api, timeout=30),
        requests.get(f"{room.url}/hub/api/users/{two.name}", headers=api, timeout=30),
        requests.post(f"{room.url}/hub/api/users/{two.name}/server", headers=api, timeout=30),
        requests.delete(f"{room.url}/hub/api/users/{two.name}/server", headers=api, timeout=30),
        requests.post(f"{room.url}/hub/api/users/{two.name}/tokens", headers=api, timeout=30, json={}),
        requests.post(f"{room.url}/hub/api/users", headers=api, timeout=30, json={"usernames": ["intruder"]}),
        requests.post(f"{room.url}/hub/api/shutdown", headers=api, timeout=30),
        requests.get(f"{room.url}/user/{two.name}/api/contents", headers=api, timeout=30),
    ]
    for answer in refused:
        assert answer.status_code in (403, 404), (answer.request.method, answer.url, answer.status_code)
    # The hub still serves everyone afterwards.
    assert requests.get(f"{room.url}/hub/api/", timeout=30).status_code == 200


def test_students_have_no_formgrader(loop: Loop) -> None:
    session = login(loop.room, loop.room.student(1))
    answer = session.get(f"{loop.room.url}/user/{loop.room.student(1).name}/formgrader", timeout=30)
    assert answer.status_code == 404, answer.status_code


# ------------------------------------------------------------------------------ in the browser


def solved_notebook(fetched: Path, assignment: str) -> nbformat.NotebookNode:
    """The fetched notebook with the instructor's solution cells typed in (a student's finished work)."""
    notebook = nbformat.read(fetched, as_version=4)
    for grade_id, source in _solution_sources(ROOT / "solutions", fetched.stem, assignment).items():
        _set_source(notebook, grade_id, source)
    return notebook


def hub_login(page: Any, room: Classroom, account: Account) -> None:
    page.goto(f"{room.url}/hub/login")
    page.fill("#username_input", account.name)
    page.fill("#password_input", account.password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{re.escape(account.name)}/lab"), timeout=120_000)
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=120_000)


def test_in_chromium_a_student_fetches_validates_and_submits(loop: Loop, browser: Any) -> None:
    room, student, teacher = loop.room, loop.room.student(1), loop.room.instructor
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    hub_login(page, room, student)
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    labels = page.locator(".lm-Menu-content .lm-Menu-itemLabel")
    labels.first.wait_for(state="visible")  # all_inner_texts() does not wait for the menu to open
    items = labels.all_inner_texts()
    assert "Assignment List" in items and "Formgrader" not in items, items
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile("^Assignment List$")).click()

    released = page.locator("#released_assignments_list .list_item", has_text=BROWSER_ASSIGNMENT)
    released.get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list .list_item", has_text=BROWSER_ASSIGNMENT)
    fetched.wait_for(timeout=60_000)
    # The student's work, saved through their server's contents API as JupyterLab saves it.
    path = f"{BROWSER_ASSIGNMENT}/bottle.ipynb"
    work = solved_notebook(student.home / path, BROWSER_ASSIGNMENT)
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
    saved = page.request.put(f"{room.url}/user/{student.name}/api/contents/{path}",
                             headers={"X-XSRFToken": xsrf, "Content-Type": "application/json"},
                             data=json.dumps({"type": "notebook", "format": "json",
                                              "content": json.loads(nbformat.writes(work))}))
    assert saved.status == 200, saved.text()
    # Validate runs the notebook with its visible tests, as the student's button does.
    fetched.locator("a.assignment-notebooks-link").click()
    page.locator("#fetched_assignments_list .nested_list_item", has_text="bottle").get_by_role(
        "button", name="Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=180_000)
    assert "Success! Your notebook passes all the tests." in dialog.inner_text(), dialog.inner_text()
    dialog.get_by_role("button").last.click()
    fetched.get_by_role("button", name="Submit").click()
    submitted = page.locator("#submitted_assignments_list .list_item", has_text=BROWSER_ASSIGNMENT)
    submitted.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "student-assignments-panel.png"))
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", page.locator("#submitted_assignments_list").inner_text())

    # The instructor collects, and the formgrader lists the submission.
    nbgrader(room, teacher, "collect", BROWSER_ASSIGNMENT, cwd=teacher.course)
    formgrader = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    hub_login(formgrader, room, teacher)
    formgrader.goto(f"{room.url}/user/{teacher.name}/formgrader/manage_submissions/{BROWSER_ASSIGNMENT}")
    row = formgrader.locator("table tbody tr", has_text=student.name)
    row.wait_for(timeout=60_000)
    formgrader.screenshot(path=str(ARTIFACTS / "instructor-formgrader.png"))
    assert "needs autograding" in row.inner_text(), row.inner_text()


# ------------------------------------------------------------------------------ nothing left behind


def accounts_named(prefix: str) -> list[str]:
    return [entry.pw_name for entry in pwd.getpwall() if entry.pw_name.startswith(prefix)]


def test_stopping_the_classroom_leaves_no_account_process_or_file(room: Classroom) -> None:
    prefix = f"bl{secrets.token_hex(2)}-"
    small = Classroom(ROOT, students=1, prefix=prefix).start()
    student, folder = small.student(1), small.folder
    follow_pull_link(small, student)  # the student's JupyterLab runs
    small.run_as(student, ["sh", "-c", "setsid sleep 6104 >/dev/null 2>&1 < /dev/null &"])
    assert subprocess.run(["pgrep", "-u", student.name], capture_output=True).returncode == 0
    small.stop()
    assert accounts_named(prefix) == []
    assert subprocess.run(["pgrep", "-f", "sleep 6104"], capture_output=True).returncode == 1
    assert not folder.exists()
    assert requests.get(f"{room.url}/hub/api/", timeout=30).status_code == 200  # the other hub is untouched


def test_accounts_of_a_killed_classroom_are_removed_by_the_next(room: Classroom) -> None:
    name = f"bl{secrets.token_hex(2)}-left"
    dead = subprocess.Popen(["true"])
    dead.wait()
    subprocess.run(["useradd", "--no-create-home", "--comment", f"{MARK} pid={dead.pid}", name], check=True)
    assert name in remove_abandoned_accounts()
    assert accounts_named(name) == []
    assert all(account.name in accounts_named(account.name) for account in room.accounts)  # alive: kept
