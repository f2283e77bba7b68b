"""The grader's robustness corpus: submissions of assignment 01-lightweight that go wrong in every
way we could think of, built from the released exercise notebooks.

:func:`build` writes them into ``submitted/<case>/01-lightweight/`` of a course folder and returns
the expected outcome of each: a score out of 20, or a failure, plus words the grader's notes or
reason must contain. Cases that test one notebook submit only that one (the other then scores 0 as
"not submitted"), which keeps the batch fast. (The solutions and the unmodified exercises of every
assignment are added by tests/test_grading.py itself, as students "solution" and "unmodified".)
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

ASSIGNMENT = "01-lightweight"
MAX_SCORE = 20.0


@dataclasses.dataclass(frozen=True)
class Case:
    student: str
    what: str
    score: float | None  # None: grading must fail (with a reason)
    says: tuple[str, ...] = ()  # fragments of the notes (or the reason) to expect
    assignment: str = ASSIGNMENT


# ----------------------------------------------------------------------------------------------
# Solution code written differently from the instructor's
# ----------------------------------------------------------------------------------------------

FLASK_ALTERNATIVE = '''
from flask import jsonify, make_response
from werkzeug.exceptions import HTTPException


class Shelf:
    """Books in a list, guarded by a lock."""

    def __init__(self):
        self.items = []
        self.lock = threading.Lock()

    def add(self, title, year):
        with self.lock:
            book = {"id": len(self.items) + 1, "title": title, "year": year}
            self.items.append(book)
            return book

    def get(self, book_id):
        return next((book for book in self.items if book["id"] == book_id), None)


def problem(status, message):
    return make_response(jsonify(error=message), status)


def create_app():
    app = Flask(__name__)
    shelf = Shelf()

    @app.errorhandler(HTTPException)
    def http_error(exc):
        return problem(exc.code, exc.description or exc.name)

    @app.route("/books", methods=["GET", "POST"])
    def books():
        if request.method == "GET":
            return jsonify(shelf.items)
        data = request.get_json(silent=True)
        if type(data) is not dict:
            return problem(400, "send a JSON object")
        title, year = data.get("title"), data.get("year")
        if type(title) is not str or title.strip() == "":
            return problem(400, "a title is required")
        if type(year) is not int or year < 1450 or year > 2100:
            return problem(400, "the year must be an integer from 1450 to 2100")
        book = shelf.add(title.strip(), year)
        response = make_response(jsonify(book), 201)
        response.headers["Location"] = f"/books/{book['id']}"
        return response

    @app.route("/books/<book_id>")
    def one_book(book_id):
        book = shelf.get(int(book_id)) if book_id.isdigit() else None
        if book is None:
            return problem(404, f"no book {book_id}")
        return jsonify(book)

    return app
'''

# Reading and creating work; no validation at all (the validation test fails: 6 of 10).
FLASK_PARTIAL = '''
def create_app():
    app = Flask(__name__)
    books = {}

    @app.errorhandler(404)
    def not_found(error):
        return {"error": "not found"}, 404

    @app.get("/books")
    def list_books():
        return list(books.values())

    @app.get("/books/<int:book_id>")
    def get_book(book_id):
        if book_id not in books:
            return {"error": "not found"}, 404
        return books[book_id]

    @app.post("/books")
    def create_book():
        payload = request.get_json(force=True, silent=True) or {}
        book = {"id": len(books) + 1, "title": str(payload.get("title", "")).strip(), "year": payload.get("year")}
        books[book["id"]] = book
        return book, 201, {"Location": f"/books/{book['id']}"}

    return app
'''

FASTAPI_ALTERNATIVE_1 = '''
from typing import Annotated

from fastapi import status
from fastapi.responses import JSONResponse

Name = Annotated[str, Field(min_length=1, max_length=40)]
Seats = Annotated[int, Field(ge=1, le=8)]


class NewReservation(BaseModel):
    name: Name
    seats: Seats
    tier: Literal["standard", "premium"] = "standard"


BOOKED: list[dict] = []


@app.post("/reservations", status_code=status.HTTP_201_CREATED)
async def book(reservation: NewReservation):
    record = {"id": len(BOOKED) + 1, **reservation.model_dump()}
    BOOKED.append(record)
    return record
'''

FASTAPI_ALTERNATIVE_2 = '''
@app.get("/reservations/{reservation_id}")
async def lookup(reservation_id: int):
    for record in BOOKED:
        if record["id"] == reservation_id:
            return record
    return JSONResponse({"detail": f"reservation {reservation_id} not found"}, status_code=404)
'''

FASTAPI_ALTERNATIVE_3 = '''
@app.get("/temperature/{city}")
async def temperature_of(city: str):
    reading = await asyncio.wait_for(weather.temperature(city), timeout=5)
    if reading is None:
        return JSONResponse(status_code=404, content={"detail": "unknown city"})
    return {"celsius": reading, "city": city}
'''


IGNORES_INTERRUPT = '''
import time

while True:  # swallows the grader's interrupt
    try:
        time.sleep(0.2)
    except KeyboardInterrupt:
        pass
'''

def writes_outside(course: Path) -> str:
    """Writes aimed at the real course (relative, absolute, through /proc); the first refusal is raised."""
    return f'''
import os
import pathlib

targets = [
    "../../../gradebook.db", "../../../grades.csv", "../../solution/01-lightweight/flask.ipynb",
    "{course}/gradebook.db", "{course}/grades.csv", "{course}/solutions/01-lightweight/flask.ipynb",
    "{course}/submitted/solution/01-lightweight/flask.ipynb", "{course}/nbgrader_config.py",
]
# The working folder of every process this kernel can see, and above it, as a walk up the process tree would.
targets += [f"/proc/{{pid}}/cwd/{{up}}gradebook.db" for pid in os.listdir("/proc") if pid.isdigit()
            for up in ("", "../", "../../", "../../../")]
refused = []
for target in targets:
    try:
        path = pathlib.Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("overwritten by another student")
        print("WROTE", target)
    except OSError as exc:
        refused.append(exc)
print(f"{{len(refused)}} of {{len(targets)}} writes refused")
raise refused[0]
'''


def reads_instructor_notebooks(course: Path) -> str:
    """Every notebook with this course's hidden tests it can find, and the course's own solutions."""
    return f'''
import os

found = []
for dirpath, dirnames, filenames in os.walk("/"):
    if dirpath in ("/proc", "/sys", "/dev"):
        dirnames[:] = []
        continue
    for name in filenames:
        if name.endswith(".ipynb"):
            try:
                with open(os.path.join(dirpath, name), encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                continue
            if "BEGIN " + "HIDDEN TESTS" in text and "test-flask-" + "validate" in text:  # not this cell
                found.append(os.path.join(dirpath, name))
print(f"notebooks with this course's hidden tests: {{len(found)}}")
# Print the source of every cell that runs from now on, test cells included, into its output.
get_ipython().events.register("post_run_cell", lambda result: print(result.info.raw_cell))
open("{course}/solutions/01-lightweight/flask.ipynb").read()
'''


FORGES_FILES = '''
import json
import os
import pathlib
import sqlite3

# Every file the kernel can write that could look like a grading result: its own notebooks (solved, with
# clean outputs), a gradebook and a results file wherever it can write, and the submission's timestamp.
for notebook in pathlib.Path(".").glob("*.ipynb"):
    data = json.loads(notebook.read_text())
    for cell in data["cells"]:
        cell["outputs"] = []
    notebook.write_text(json.dumps(data))
for folder in (".", "..", os.path.expanduser("~"), "/tmp"):
    for name in ("gradebook.db", "result.json", "grades.csv"):
        try:
            path = os.path.join(folder, name)
            with sqlite3.connect(path) if name.endswith(".db") else open(path, "w") as handle:
                if name.endswith(".db"):
                    handle.execute("create table grade (name text, auto_score real)")
                    handle.execute("insert into grade values ('test-flask-read', 3)")
                else:
                    handle.write('{"status": "graded", "score": 20.0}')
        except (OSError, sqlite3.Error):
            pass
pathlib.Path("timestamp.txt").write_text("2020-01-01 00:00:00.000000 UTC")
print("forged")
'''

FORGES_IN_KERNEL = '''
ip = get_ipython()
# No more error output (nbgrader 0.9 already answers this one); a big result value after every cell
# (nbgrader's partial credit) ...
ip.showtraceback = lambda *args, **kwargs: None
ip.events.register("post_run_cell", lambda result: ip.displayhook(1000))
# ... and every cell with an assert run as `pass` instead: against plain nbgrader, full marks.
run_cell, run_cell_async = ip.run_cell, ip.run_cell_async


def skip_asserts(raw_cell, *args, **kwargs):
    return run_cell("pass" if "assert" in raw_cell else raw_cell, *args, **kwargs)


async def skip_asserts_async(raw_cell, *args, **kwargs):
    return await run_cell_async("pass" if "assert" in raw_cell else raw_cell, *args, **kwargs)


ip.run_cell, ip.run_cell_async = skip_asserts, skip_asserts_async
'''

LINGERS = '''
import subprocess

subprocess.Popen(["sleep", "6001"], start_new_session=True)
subprocess.Popen(["sh", "-c", "setsid sleep 6002 & sleep 6003 &"])
print("three processes left running")
'''

HOGS_MEMORY = '''
hog = bytearray(4 * 1024**3)
'''

FORKS = '''
import subprocess

children = []
try:
    for _ in range(5000):
        children.append(subprocess.Popen(["sleep", "3001"]))
finally:
    print(f"started {len(children)} processes")
    for child in children:
        child.kill()
        child.wait()
'''

USES_NETWORK = '''
import socket

print("interfaces:", [name for _, name in socket.if_nameindex()])
with open("/proc/net/route") as routes:
    print("routes:", len(routes.read().splitlines()) - 1)
socket.create_connection(("192.0.2.1", 80), timeout=5)  # TEST-NET-1: nothing may leave the machine
'''

KILLS_GRADER = '''
import json
import os
import signal

# Kill every other process it can see, then leave a forged result where the grader's files might be.
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
forged = {"token": "guess", "student": "kills-grader", "assignment": "01-lightweight", "status": "graded",
          "score": 20.0, "max_score": 20.0}
with open("../../../../result.json", "w") as handle:
    json.dump(forged, handle)
'''


# ----------------------------------------------------------------------------------------------
# Notebook surgery
# ----------------------------------------------------------------------------------------------

def _index(notebook: nbformat.NotebookNode, grade_id: str) -> int:
    for index, cell in enumerate(notebook.cells):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    raise KeyError(grade_id)


def _set_source(notebook: nbformat.NotebookNode, grade_id: str, source: str) -> None:
    notebook.cells[_index(notebook, grade_id)].source = source.strip("\n")


def _add_after(notebook: nbformat.NotebookNode, grade_id: str, source: str, cell_id: str) -> None:
    notebook.cells.insert(_index(notebook, grade_id) + 1, new_code_cell(source.strip("\n"), id=cell_id))


def _delete(notebook: nbformat.NotebookNode, grade_id: str) -> None:
    del notebook.cells[_index(notebook, grade_id)]


def _solution_sources(solutions: Path, name: str, assignment: str = ASSIGNMENT) -> dict[str, str]:
    """The instructor's solution cells, as a student who got everything right would write them."""
    notebook = nbformat.read(solutions / assignment / f"{name}.ipynb", as_version=4)
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def hidden_test_lines(solutions: Path, assignment: str, name: str) -> set[str]:
    """The lines of hidden tests of one solution notebook that feedback must not show."""
    from backendlab.grading.feedback import MIN_HIDDEN_LINE, split_hidden

    notebook = nbformat.read(solutions / assignment / f"{name}.ipynb", as_version=4)
    lines, visible = set(), set()
    for cell in notebook.cells:
        shown, hidden = split_hidden(cell.source)
        lines |= {line.strip() for line in hidden if len(line.strip()) >= MIN_HIDDEN_LINE}
        visible |= {line.strip() for line in shown.splitlines()}
    return lines - visible


def build(course: Path, release: Path, solutions: Path) -> list[Case]:
    """Write every case into ``course/submitted/`` and return the expected outcomes."""
    names = ("flask", "fastapi")
    exercise = {name: nbformat.read(release / ASSIGNMENT / f"{name}.ipynb", as_version=4) for name in names}
    answers = {name: _solution_sources(solutions, name) for name in names}
    cases: list[Case] = []

    def fresh(name: str, solved: bool = True) -> nbformat.NotebookNode:
        notebook = copy.deepcopy(exercise[name])
        if solved:
            for grade_id, source in answers[name].items():
                _set_source(notebook, grade_id, source)
        return notebook

    def submit(case: Case, notebooks: dict[str, nbformat.NotebookNode | str]) -> None:
        folder = course / "submitted" / case.student / ASSIGNMENT
        folder.mkdir(parents=True)
        for name, notebook in notebooks.items():
            text = notebook if isinstance(notebook, str) else nbformat.writes(notebook)
            (folder / f"{name}.ipynb").write_text(text, encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-03-01 12:00:00.000000 UTC")
        cases.append(case)

    alternative_flask = fresh("flask", solved=False)
    _set_source(alternative_flask, "flask-create-app", FLASK_ALTERNATIVE)
    alternative_fastapi = fresh("fastapi", solved=False)
    _set_source(alternative_fastapi, "fastapi-reservations", FASTAPI_ALTERNATIVE_1)
    _set_source(alternative_fastapi, "fastapi-lookup", FASTAPI_ALTERNATIVE_2)
    _set_source(alternative_fastapi, "fastapi-temperature", FASTAPI_ALTERNATIVE_3)
    submit(Case("alternative", "a correct solution written differently", MAX_SCORE),
           {"flask": alternative_flask, "fastapi": alternative_fastapi})

    partial_flask = fresh("flask", solved=False)
    _set_source(partial_flask, "flask-create-app", FLASK_PARTIAL)
    partial_fastapi = fresh("fastapi")
    _set_source(partial_fastapi, "fastapi-temperature", "# YOUR CODE HERE\nraise NotImplementedError()")
    submit(Case("partial", "no validation in Flask, no async endpoint in FastAPI", 6.0 + 8.0),
           {"flask": partial_flask, "fastapi": partial_fastapi})

    broken = nbformat.writes(fresh("flask"))
    submit(Case("malformed-json", "flask.ipynb cut off in the middle (invalid JSON)", 10.0,
                ("flask.ipynb is not a readable notebook",)),
           {"flask": broken[: len(broken) // 2], "fastapi": fresh("fastapi")})

    syntax = fresh("flask")
    _set_source(syntax, "flask-create-app", "def create_app(:\n    return Flask(__name__)")
    submit(Case("syntax-error", "a syntax error in the solution cell", 0.0, ("fastapi.ipynb was not submitted",)),
           {"flask": syntax})

    import_error = fresh("flask")
    _set_source(import_error, "flask-create-app",
                "import flask_extension_that_does_not_exist\n\n" + answers["flask"]["flask-create-app"])
    submit(Case("import-error", "an exception while importing", 0.0), {"flask": import_error})

    loop_top = fresh("flask")
    _add_after(loop_top, "flask-create-app", "while True:  # an infinite loop at top level\n    pass", "student-loop")
    submit(Case("loop-top", "an infinite loop at top level (interrupted, then the tests run)", 10.0,
                ("timed out after",)), {"flask": loop_top})

    loop_handler = fresh("flask")
    busy = answers["flask"]["flask-create-app"].replace(
        "        fields = parse_book()\n        with lock:",
        "        fields = parse_book()\n        while fields['title'] == 'Dune':  # an infinite loop, for one title\n"
        "            pass\n        with lock:",
    )
    assert "while fields" in busy
    _set_source(loop_handler, "flask-create-app", busy)
    submit(Case("loop-handler", "an infinite loop inside POST /books (for one title)", 3.0 + 4.0),
           {"flask": loop_handler})

    never_answers = fresh("fastapi")
    lookup = answers["fastapi"]["fastapi-lookup"].replace("### BEGIN SOLUTION", "### BEGIN SOLUTION\nimport time")
    hang = "    time.sleep(3600)  # never answers\n"
    lookup = lookup.replace("    if reservation_id not in", hang + "    if reservation_id not in")
    _set_source(never_answers, "fastapi-lookup", lookup)
    submit(Case("never-answers", "a server that accepts requests and never answers them", 8.0),
           {"fastapi": never_answers})

    ignores = fresh("flask")
    _add_after(ignores, "flask-create-app", IGNORES_INTERRUPT, "student-stubborn")
    submit(Case("ignores-interrupt", "a loop that swallows the timeout interrupt", 0.0,
                ("timed out after", "the cells after it were not run")), {"flask": ignores})

    exits = fresh("flask")
    _set_source(exits, "flask-create-app", answers["flask"]["flask-create-app"] + "\n\nimport sys\n\nsys.exit(1)")
    submit(Case("sys-exit", "sys.exit() at the end of the solution cell", 10.0), {"flask": exits})

    os_exit = fresh("flask")
    _add_after(os_exit, "test-flask-read", "import os\n\nos._exit(1)", "student-os-exit")
    submit(Case("os-exit", "os._exit() after the first test", 3.0, ("kernel died",)), {"flask": os_exit})

    killed = fresh("fastapi")
    _add_after(killed, "test-fastapi-create", "import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)",
               "student-sigkill")
    submit(Case("kill-kernel", "a cell that SIGKILLs its kernel after the first test", 3.0, ("kernel died",)),
           {"fastapi": killed})

    edited = fresh("flask", solved=False)
    _set_source(edited, "flask-create-app", FLASK_PARTIAL)
    _set_source(edited, "test-flask-validate", "pass  # my code passes all the tests now")
    submit(Case("edited-test", "no validation, and the validation test edited away", 6.0,
                ("test cell test-flask-validate was edited",)), {"flask": edited})

    deleted = fresh("flask", solved=False)
    _set_source(deleted, "flask-create-app", FLASK_PARTIAL)
    _delete(deleted, "test-flask-validate")
    submit(Case("deleted-test", "no validation, and the validation test deleted", 6.0,
                ("test cell test-flask-validate was deleted",)), {"flask": deleted})

    flood = fresh("flask")
    _add_after(flood, "flask-create-app", 'for _ in range(2000):\n    print("flood " * 2000)', "student-flood")
    submit(Case("flood", "20 MB of output", 10.0, ("the rest was dropped",)), {"flask": flood})

    sandboxed = "the sandbox stopped it"
    writes = fresh("flask")
    _add_after(writes, "flask-create-app", writes_outside(course), "student-writes")
    submit(Case("writes-outside", "writes into the real course: relative, absolute and /proc/<pid>/cwd paths", 10.0,
                (sandboxed,)), {"flask": writes})

    snoop = fresh("flask")
    _add_after(snoop, "flask-create-app", reads_instructor_notebooks(course), "student-snoop")
    submit(Case("snoop", "looks for notebooks with hidden tests; prints every cell that runs", 10.0,
                ("reach a path that does not exist in its sandbox",)), {"flask": snoop})

    forged_files = fresh("flask", solved=False)
    _add_after(forged_files, "flask-create-app", FORGES_FILES, "student-forges-files")
    submit(Case("forges-files", "nothing solved; forges gradebooks, results, its notebook, its timestamp", 0.0),
           {"flask": forged_files})

    forged_kernel = fresh("flask", solved=False)
    _add_after(forged_kernel, "flask-create-app", FORGES_IN_KERNEL, "student-forges-kernel")
    submit(Case("forges-kernel", "nothing solved; hides errors, adds result values, skips asserts", 0.0,
                ("a result value appeared in a test cell and was ignored", "tampered with")),
           {"flask": forged_kernel})

    lingers = fresh("flask")
    _add_after(lingers, "flask-create-app", LINGERS, "student-lingers")
    submit(Case("lingers", "leaves processes running in new sessions", 10.0, ("were killed with its sandbox",)),
           {"flask": lingers})

    hog = fresh("flask")
    _add_after(hog, "flask-create-app", HOGS_MEMORY, "student-hog")
    submit(Case("memory-hog", "allocates 4 GiB", 10.0, ("more memory than the limit",)), {"flask": hog})

    forks = fresh("flask")
    _add_after(forks, "flask-create-app", FORKS, "student-forks")
    submit(Case("forks", "starts processes until it cannot", 10.0, ("more processes than the limit",)),
           {"flask": forks})

    network = fresh("flask")
    _add_after(network, "flask-create-app", USES_NETWORK, "student-network")
    submit(Case("network", "connects to an address off the machine", 10.0, ("reach the network",)),
           {"flask": network})

    grader_killer = fresh("flask")
    _add_after(grader_killer, "flask-create-app", KILLS_GRADER, "student-kills-grader")
    submit(Case("kills-grader", "kills every process it sees, then forges a result file", 10.0, (sandboxed,)),
           {"flask": grader_killer})

    duplicate = fresh("flask")
    copied = copy.deepcopy(duplicate.cells[_index(duplicate, "test-flask-read")])
    copied.id = "copied-test"
    duplicate.cells.append(copied)
    submit(Case("duplicate-cell", "a test cell copied (two cells with one grade_id)", 10.0,
                ("is a copy of cell test-flask-read",)), {"flask": duplicate})

    damaged = fresh("flask")
    damaged.cells[_index(damaged, "test-flask-create")].metadata["nbgrader"]["points"] = 300
    damaged.cells[_index(damaged, "flask-create-app")].metadata["nbgrader"] = {"grade": "yes"}
    submit(Case("damaged-metadata", "points of a test raised to 300; a solution cell's metadata damaged", 10.0,
                ("grading metadata of test-flask-create was altered", "damaged grading metadata")),
           {"flask": damaged})

    (course / "submitted" / "empty" / ASSIGNMENT).mkdir(parents=True)
    cases.append(Case("empty", "a submission folder with no notebook", None, ("no readable notebook",)))

    (course / "submitted" / "lost" / "99-no-such-assignment").mkdir(parents=True)
    (course / "submitted" / "lost" / "99-no-such-assignment" / "flask.ipynb").write_text(json.dumps({}))
    cases.append(Case("lost", "a submission for an assignment that does not exist", None,
                      ("there is no assignment",), assignment="99-no-such-assignment"))
    return cases


# ----------------------------------------------------------------------------------------------
# Correct solutions in other idioms, and plausibly wrong ones, for every assignment
# ----------------------------------------------------------------------------------------------

IDIOM_MODULES = ("idioms_01_lightweight", "idioms_02_full_stack", "idioms_03_async", "idioms_04_specialized")
# How many of each kind make test grades per assignment (the minimum; the modules hold more,
# which a full run of the corpus grades: see build_idioms(every=True)).
CORRECT_PER_ASSIGNMENT = 2
WRONG_PER_ASSIGNMENT = 2


def build_idioms(course: Path, release: Path, every: bool = False) -> list[Case]:
    """Write the idiom submissions of every assignment into ``course/submitted/``; return the cases.

    A submission is the released notebooks with every solution cell replaced by the student's source.
    """
    cases = []
    for module_name in IDIOM_MODULES:
        module = importlib.import_module(f"grading_corpus.{module_name}")
        correct = module.CORRECT if every else module.CORRECT[:CORRECT_PER_ASSIGNMENT]
        wrong = module.WRONG if every else module.WRONG[:WRONG_PER_ASSIGNMENT]
        for entry, score in [(e, MAX_SCORE) for e in correct] + [(e, float(e["score"])) for e in wrong]:
            folder = course / "submitted" / entry["student"] / module.ASSIGNMENT
            folder.mkdir(parents=True)
            for name, sources in entry["cells"].items():
                notebook = nbformat.read(release / module.ASSIGNMENT / f"{name}.ipynb", as_version=4)
                for grade_id, source in sources.items():
                    _set_source(notebook, grade_id, source)
                nbformat.write(notebook, folder / f"{name}.ipynb")
            cases.append(Case(entry["student"], entry["what"], score, assignment=module.ASSIGNMENT))
    return cases
