"""JupyterLab in a real browser: the course as a learner uses it (Playwright + Debian's Chromium).

A JupyterLab server starts as ``make lab`` starts it (127.0.0.1, a port the OS picks, the
course folder as root, ``--allow-root`` as root) plus a random token, on a copy of the course
in a temporary folder, so nothing in the work tree changes. Its settings are the course's
``lab-settings/overrides.json5`` (no news or update pop-ups), its config, runtime, settings and
workspace folders are fresh, so a developer's own JupyterLab set-up does not leak in.

* ``notebooks/choosing.ipynb``: Run All from the Run menu, then a click on a chooser answer
  changes the recommendation to what :func:`backendlab.chooser.rank` says it should be.
* ``notebooks/introduction.ipynb`` (it starts real servers): Run All completes, every code
  cell has run, no cell shows an error.
* Every chapter notebook (``notebooks/*.ipynb``), only opened: jupyterlab-myst renders its MyST
  markdown, so no markdown cell shows raw markup (a ```{admonition} fence, a ``{term}`` role, a
  ``:class:`` option line ...), and every admonition fence became an admonition box.
* nbgrader's lab extension loads next to jupyterlab-myst: its Nbgrader menu, its assignment list.
* No dialog (kernel choice or other) appears, no request leaves the machine.

Without Chromium or Playwright the tests skip, except in CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import Request, urlopen

import json5
import nbformat
import pytest

from backendlab.chooser import QUESTIONS, Answers, rank

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "_build" / "test-artifacts" / "browser-lab"  # never in the work tree
OVERRIDES = ROOT / "lab-settings" / "overrides.json5"

# One xdist group for both browser modules: they run back to back on one worker, and each
# module's Playwright session (which holds an asyncio loop) ends before other tests run there.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

SERVER_START_TIMEOUT = 90
RUN_ALL_TIMEOUT_MS = 180_000
# Not copied into the temporary course folder.
COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "_build",
    "test-artifacts",
    "__pycache__",
    ".ipynb_checkpoints",
    ".pytest_cache",
    ".ruff_cache",
    "*.egg-info",
    "node_modules",
    "submitted",
    "autograded",
    "feedback",
    "release",
    "gradebook.db",
)


# ------------------------------------------------------------------------- the server


@dataclass
class LabServer:
    process: subprocess.Popen
    url: str  # http://127.0.0.1:<port>/
    token: str
    course: Path  # the temporary copy of the course that the server serves
    log: Path

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        headers = {"Authorization": f"token {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = Request(self.url + path, data=data, method=method, headers=headers)
        with urlopen(request, timeout=10) as response:  # noqa: S310 (loopback only)
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""


def settings_from_overrides(overrides: dict[str, dict], settings_dir: Path) -> None:
    """Write overrides.json5's settings as user settings (one file per plugin) in ``settings_dir``."""
    for plugin, values in overrides.items():
        package, _, name = plugin.partition(":")
        path = settings_dir / package / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))


def lab_command(course: Path, token: str) -> list[str]:
    """What ``make lab`` runs, plus a token and no browser."""
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter),
        "lab",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        f"--ServerApp.root_dir={course}",
        f"--ServerApp.token={token}",
        "--no-browser",
    ]
    if os.getuid() == 0:
        command.append("--allow-root")
    return command


def wait_for_server(process: subprocess.Popen, runtime: Path, log: Path) -> tuple[str, str]:
    """The server's URL and token, read from the jpserver-<pid>.json it writes once it listens."""
    info_file = runtime / f"jpserver-{process.pid}.json"
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if info_file.exists():
            try:
                info = json.loads(info_file.read_text())
            except json.JSONDecodeError:
                info = None  # still being written
            if info:
                url = f"http://127.0.0.1:{info['port']}/"
                try:
                    with urlopen(f"{url}api/status?token={info['token']}", timeout=5):  # noqa: S310
                        return url, info["token"]
                except URLError:
                    pass
        time.sleep(0.25)
    pytest.fail(f"JupyterLab did not start within {SERVER_START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, chromium_executable: str) -> Iterator[LabServer]:
    work = tmp_path_factory.mktemp("lab")
    course = work / "backend-lab"
    shutil.copytree(ROOT, course, ignore=COPY_IGNORE)
    settings_dir = work / "user-settings"
    settings_from_overrides(json5.loads(OVERRIDES.read_text()), settings_dir)
    runtime = work / "runtime"
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(work / "config"),
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
    )
    log = work / "jupyterlab.log"
    token = secrets.token_hex(16)
    with log.open("w") as log_file:
        process = subprocess.Popen(
            lab_command(course, token),
            cwd=course,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = None
    try:
        url, token = wait_for_server(process, runtime, log)
        server = LabServer(process, url, token, course, log)
        yield server
    finally:
        if server is not None:
            try:
                server.api("api/shutdown", method="POST")  # stops the kernels too
            except (URLError, OSError):
                pass
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Watch:
    """Requests that leave the machine, failed requests and page errors while the lab is open."""

    origin: str
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("request", self._request)
        page.on("requestfailed", self._failed)

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.origin, "data:", "blob:", "about:")):
            self.problems.append(f"request leaves the machine: {request.url}")

    def _failed(self, request: Any) -> None:
        failure = request.failure or ""
        # Closing a notebook or the page cancels its open requests (kernel websockets, polls).
        if request.url.startswith(self.origin) and "ERR_ABORTED" not in failure:
            self.problems.append(f"request failed: {request.url} ({failure})")


@pytest.fixture()
def lab_page(browser: Any, lab: LabServer) -> Iterator[tuple[Any, Watch]]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    page = context.new_page()
    watch = Watch(lab.url)
    watch.attach(page)
    try:
        yield page, watch
    finally:
        context.close()


NOTEBOOK_SETTINGS = "lab/api/settings/@jupyterlab/notebook-extension:tracker"


@pytest.fixture()
def all_cells_attached(lab: LabServer) -> Iterator[None]:
    """Notebook windowing mode "none" while the test runs: every cell in the DOM, rendered.

    JupyterLab 4 attaches (or lays out) cells outside the viewport lazily, depending on
    ``windowingMode``; with "none" a test can read every markdown cell without scrolling. Set
    through the settings API before the page loads, the setting before restored afterwards.
    """
    before = lab.api(NOTEBOOK_SETTINGS)["raw"]
    settings = {**(json5.loads(before) if before.strip() else {}), "windowingMode": "none"}
    lab.api(NOTEBOOK_SETTINGS, method="PUT", body={"raw": json.dumps(settings)})
    try:
        yield
    finally:
        lab.api(NOTEBOOK_SETTINGS, method="PUT", body={"raw": before})


@pytest.fixture()
def kernels_shut_down_after(lab: LabServer) -> Iterator[None]:
    """Shut down the kernels a test's notebooks started (request it before ``lab_page``, so this
    runs after the page closed): opening eleven notebooks would otherwise leave eleven kernels."""
    before = {session["id"] for session in lab.api("api/sessions")}
    yield
    for session in lab.api("api/sessions"):
        if session["id"] not in before:
            lab.api(f"api/sessions/{session['id']}", method="DELETE")


# --------------------------------------------------------------------------- helpers


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def no_dialog(page: Any, when: str) -> None:
    dialogs = page.locator(".jp-Dialog")
    if dialogs.count():
        screenshot(page, f"unexpected-dialog-{when}")
        pytest.fail(f"{when}: JupyterLab shows a dialog: {dialogs.first.inner_text()[:500]}")


def open_notebook(page: Any, lab: LabServer, path: str) -> Any:
    """Open ``path`` in a workspace of its own, so no other notebook is restored; return its panel."""
    workspace = f"{Path(path).stem}-{secrets.token_hex(4)}"
    page.goto(f"{lab.url}lab/workspaces/{workspace}/tree/{path}?reset&token={lab.token}")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.wait_for(state="visible")
    panel.locator(".jp-Notebook .jp-Cell").first.wait_for(state="attached")
    # Run All before the kernel is connected would be dropped: wait for "Python 3 ... | Idle".
    page.locator("#jp-main-statusbar", has_text=re.compile(r"\|\s*Idle")).wait_for(state="visible")
    no_dialog(page, f"opening {path}")
    return panel


def notifications(page: Any) -> list[str]:
    return page.locator(".jp-Notification-Toast, .Toastify__toast").all_inner_texts()


def menu(page: Any, top: str, item: str) -> None:
    """Click a main-menu entry, as a person would: ``menu(page, "Run", "Run All Cells")``."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-content .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


PROMPTS_JS = """() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim())"""


def run_all(page: Any, panel: Any) -> list[str]:
    """Clear all outputs, then Run -> Run All Cells; wait until the run ended (or a dialog opened).

    Clearing first matters: the committed notebooks carry outputs and execution counts, which
    would otherwise look like a finished run. Returns the input prompts afterwards.
    """
    menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(f"() => ({PROMPTS_JS})().every(t => !/\\d/.test(t))")
    menu(page, "Run", "Run All Cells")
    # Queued and running cells show [*]. Done (or stopped at an error) once a cell has a number
    # and none is waiting; a dialog (e.g. a kernel choice) ends the wait early.
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(
            f"""() => {{
                const prompts = ({PROMPTS_JS})();
                if (document.querySelector(".jp-Dialog")) return true;
                return prompts.some(t => /\\d/.test(t)) && !prompts.some(t => t.includes("*"));
            }}""",
            timeout=RUN_ALL_TIMEOUT_MS,
        )
    except PlaywrightTimeout:
        screenshot(page, "run-all-timeout")
        status = page.locator(".jp-StatusBar-Widget").all_inner_texts()
        pytest.fail(
            f"Run All did not finish in {RUN_ALL_TIMEOUT_MS / 1000:.0f} s; prompts: {page.evaluate(PROMPTS_JS)}; "
            f"status bar: {status}"
        )
    return page.evaluate(PROMPTS_JS)


def check_prompts(prompts: list[str], notebook: nbformat.NotebookNode, path: str) -> None:
    """A fresh kernel ran every code cell once, top to bottom: [1], [2], ... [n] in the saved
    notebook; the page shows those prompts, except on cells whose source is collapsed (the
    exercises' hidden solutions), which show no prompt."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.get("execution_count") for cell in code]
    assert counts == list(range(1, len(code) + 1)), f"{path}: execution counts after Run All: {counts}"
    shown = [f"[{cell.execution_count}]:" for cell in code
             if not cell.metadata.get("jupyter", {}).get("source_hidden")]
    assert prompts == shown, f"{path}: input prompts after Run All: {prompts}"


def save(page: Any, lab: LabServer, path: str) -> nbformat.NotebookNode:
    """Save the notebook (the temporary copy) and read it back from disk."""
    target = lab.course / path
    # Wait for the server's answer to the save, sent once the file is written and closed (a changed
    # mtime comes earlier: jupyter_server truncates the file before it writes the notebook).
    def is_the_save(response: Any) -> bool:
        return response.request.method == "PUT" and response.url.split("?")[0].endswith(f"/api/contents/{path}")

    with page.expect_response(is_the_save, timeout=60_000) as answer:
        page.keyboard.press("Control+s")
    assert answer.value.ok, f"{path} was not saved: HTTP {answer.value.status}"
    return nbformat.read(target, as_version=4)


def check_ran_cleanly(notebook: nbformat.NotebookNode, path: str) -> None:
    """Every code cell ran, and none has an error output."""
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [
        f"code cell {i}: {output.get('ename')}: {output.get('evalue')}"
        for i, cell in enumerate(code_cells)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors, f"{path}: " + "; ".join(errors)
    not_run = [i for i, cell in enumerate(code_cells) if cell.get("execution_count") is None]
    assert not not_run, f"{path}: code cells {not_run} (counting from 0) did not run"


def chooser_answers(chooser: Any) -> Answers:
    """The answers selected in a rendered chooser form, read from its checked inputs."""
    checked = chooser.locator("input:checked")
    return Answers.from_form((box.get_attribute("name"), box.get_attribute("value")) for box in checked.all())


def a_change_that_matters(answers: Answers) -> tuple[str, str, str]:
    """(question, option label, expected best framework) for one click that changes the best fit."""
    best = rank(answers)[0].name
    for name, question in QUESTIONS.items():
        for value, text in question.options:
            if question.multiple:
                changed = Answers(answers.building, answers.team, answers.needs ^ {value})
            elif value == getattr(answers, name):
                continue
            else:
                changed = Answers(**{**answers.__dict__, name: value})
            if rank(changed)[0].name != best:
                return name, text, rank(changed)[0].name
    raise AssertionError(f"no single answer changes the best fit from {best}")


# ----------------------------------------------------------------------------- tests


def test_lab_settings_overrides_are_valid() -> None:
    overrides = json5.loads(OVERRIDES.read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}
    schemas = Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas"
    for plugin, values in overrides.items():
        package, _, name = plugin.partition(":")
        schema = json.loads((schemas / package / f"{name}.json").read_text())
        unknown = set(values) - set(schema["properties"])
        assert not unknown, f"{plugin}: no such settings {unknown} in JupyterLab {schema.get('title', '')}"


def test_every_notebook_names_its_kernel() -> None:
    """JupyterLab asks which kernel to start for a notebook without a kernelspec: none may lack it."""
    kernels = json.loads(
        subprocess.run(
            [str(Path(sys.executable).with_name("jupyter")), "kernelspec", "list", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )["kernelspecs"]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        spec = nbformat.read(path, as_version=4).metadata.get("kernelspec", {})
        assert spec.get("name") in kernels, f"{path.name}: kernelspec {spec!r} names no installed kernel"


def test_choosing_run_all_then_a_click_changes_the_recommendation(lab_page: tuple[Any, Watch], lab: LabServer) -> None:
    from playwright.sync_api import expect

    page, watch = lab_page
    panel = open_notebook(page, lab, "notebooks/choosing.ipynb")
    prompts = run_all(page, panel)
    no_dialog(page, "Run All in choosing.ipynb")
    saved = save(page, lab, "notebooks/choosing.ipynb")
    check_ran_cleanly(saved, "choosing.ipynb")
    check_prompts(prompts, saved, "choosing.ipynb")

    # The chooser of the last cell: its script runs in JupyterLab once the output is trusted
    # (outputs made in this session are).
    chooser = panel.locator("form.backendlab-chooser").last
    chooser.scroll_into_view_if_needed()
    result = chooser.locator(".backendlab-chooser-result")
    result.wait_for(state="visible")
    expect(chooser).to_have_attribute("data-ready", "1", timeout=30_000)
    before = result.inner_text()
    best = result.locator(".backendlab-chooser-best strong").first
    answers = chooser_answers(chooser)
    assert best.inner_text() == rank(answers)[0].name, f"shown: {before[:200]}"
    question, label, expected = a_change_that_matters(answers)
    chooser.get_by_label(label, exact=True).click()
    expect(best).to_have_text(expected, timeout=30_000)
    assert result.inner_text() != before
    shown = result.locator("ol > li > strong").all_inner_texts()
    assert shown == [r.name for r in rank(chooser_answers(chooser))]
    screenshot(page, "choosing-after-click")
    no_dialog(page, "clicking the chooser")
    assert not notifications(page), f"unexpected notifications: {notifications(page)}"

    assert not watch.problems, "\n".join(watch.problems)


def test_introduction_runs_to_completion(lab_page: tuple[Any, Watch], lab: LabServer) -> None:
    page, watch = lab_page
    panel = open_notebook(page, lab, "notebooks/introduction.ipynb")
    prompts = run_all(page, panel)
    panel.locator(".jp-Cell").last.scroll_into_view_if_needed()
    screenshot(page, "introduction-after-run-all")
    no_dialog(page, "Run All in introduction.ipynb")
    saved = save(page, lab, "notebooks/introduction.ipynb")
    check_ran_cleanly(saved, "introduction.ipynb")
    check_prompts(prompts, saved, "introduction.ipynb")
    assert not notifications(page), f"unexpected notifications: {notifications(page)}"
    assert not watch.problems, "\n".join(watch.problems)


# ------------------------------------------------------------------- MyST in JupyterLab

CHAPTERS = sorted(f"notebooks/{path.name}" for path in (ROOT / "notebooks").glob("*.ipynb"))
ADMONITIONS = "admonition|attention|caution|danger|error|hint|important|note|seealso|tip|warning"
# A directive fence in a cell's source that jupyterlab-myst renders as an admonition box.
ADMONITION_FENCE = re.compile(rf"^[ \t]*(?:`{{3,}}|~{{3,}}|:{{3,}})[ \t]*\{{(?:{ADMONITIONS})\}}", re.MULTILINE)
# MyST markup that must never reach the rendered text of a markdown cell.
RAW_MYST = [
    re.compile(r"^[ \t]*(?:`{3,}|~{3,}|:{3,})[ \t]*\{.*$", re.MULTILINE),  # a directive fence
    re.compile(
        rf"\{{(?:{ADMONITIONS}|dropdown|glossary|figure|image|code-cell|math|"
        r"term|doc|download|ref|numref|eq|abbr)\}.*$",
        re.MULTILINE,
    ),  # a directive or role name
    re.compile(r"^[ \t]*:(?:class|name|label|open|icon|color|align|width):.*$", re.MULTILINE),  # an option line
]
CELL_STATE_JS = """() => {
    const cells = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')];
    return cells.map((cell, index) => {
        if (!cell.classList.contains('jp-MarkdownCell')) return {index, markdown: false};
        // jupyterlab-myst renders into .myst, JupyterLab's own renderer into .jp-RenderedMarkdown.
        const rendered = cell.querySelector(
            '.jp-Cell-inputArea > :is(.myst, .jp-RenderedMarkdown):not(.lm-mod-hidden)');
        return {
            index, markdown: true, rendered: !!rendered,
            text: rendered ? rendered.innerText : '',
            // Without MyST, a ```{note} fence becomes a code block of language "{note}".
            fences: rendered ? [...rendered.querySelectorAll('code[class*="language-{"]')].map(c => c.className) : [],
            admonitions: rendered ? rendered.querySelectorAll('.myst-admonition').length : 0,
        };
    });
}"""


def raw_myst(text: str) -> list[str]:
    """The lines of rendered text that show MyST markup."""
    return [match.group(0).strip()[:120] for pattern in RAW_MYST for match in pattern.finditer(text)]


@pytest.mark.parametrize("path", CHAPTERS, ids=[Path(path).stem for path in CHAPTERS])
def test_myst_renders_in_jupyterlab_without_raw_markup(
    kernels_shut_down_after: None,
    all_cells_attached: None,
    lab_page: tuple[Any, Watch],
    lab: LabServer,
    path: str,
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page, watch = lab_page
    cells = nbformat.read(lab.course / path, as_version=4).cells
    markdown = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and cell.source.strip()]
    admonitions = {i: len(ADMONITION_FENCE.findall(cells[i].source)) for i in markdown}
    open_notebook(page, lab, path)
    state = f"({CELL_STATE_JS})()"
    try:
        page.wait_for_function(
            f"""([count, markdown]) => {{
                const cells = {state};
                return cells.length === count && markdown.every(i => cells[i].rendered && cells[i].text.trim());
            }}""",
            arg=[len(cells), markdown],
            timeout=30_000,
        )
    except PlaywrightTimeout:
        screenshot(page, f"myst-{Path(path).stem}")
        shown = page.evaluate(state)
        unrendered = [i for i in markdown if i >= len(shown) or not shown[i].get("rendered")]
        pytest.fail(
            f"{path}: {len(shown)} of {len(cells)} cells in the page; markdown cells not rendered: {unrendered}"
        )
    # Every markdown cell has rendered text. Give the admonition boxes a moment, not a fixed
    # sleep: the wait ends as soon as each cell has as many boxes as its source has fences.
    try:
        page.wait_for_function(
            f"expected => {{ const cells = {state}; return expected.every(([i, n]) => cells[i].admonitions >= n); }}",
            arg=list(admonitions.items()),
            timeout=30_000,
        )
    except PlaywrightTimeout:
        pass  # reported below, with the raw markup that probably took the boxes' place

    problems = []
    for cell in page.evaluate(state):
        i = cell["index"]
        if not cell["markdown"]:
            continue
        for line in raw_myst(cell["text"]):
            problems.append(f"{path}: markdown cell {i} shows raw MyST markup: {line!r}")
        for language in cell["fences"]:
            fence = language.removeprefix("language-")
            problems.append(f"{path}: markdown cell {i} shows a ```{fence} fence as a code block")
        if cell["admonitions"] < admonitions.get(i, 0):
            problems.append(
                f"{path}: markdown cell {i}: {admonitions[i]} admonition fence(s) in the source, "
                f"{cell['admonitions']} admonition box(es) (.myst-admonition) rendered"
            )
    if problems:
        screenshot(page, f"myst-{Path(path).stem}")
    assert not problems, "\n".join(problems)
    no_dialog(page, f"reading {path}")
    assert not watch.problems, "\n".join(watch.problems)


def test_nbgrader_lab_extension_loads_next_to_jupyterlab_myst(lab_page: tuple[Any, Watch], lab: LabServer) -> None:
    """The Nbgrader menu is there, and its assignment list opens and talks to nbgrader's server
    extension (which checks that the lab and server extensions are the same version)."""
    page, watch = lab_page
    page.goto(f"{lab.url}lab/workspaces/nbgrader-{secrets.token_hex(4)}?reset&token={lab.token}")
    nbgrader_menu = page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$"))
    nbgrader_menu.wait_for(state="visible")
    nbgrader_menu.click()
    labels = page.locator(".lm-Menu-content .lm-Menu-itemLabel")
    labels.first.wait_for(state="visible")  # all_inner_texts() does not wait for the menu to open
    items = labels.all_inner_texts()
    page.keyboard.press("Escape")
    for item in ("Assignment List", "Formgrader", "Create assignment"):
        assert item in items, f"the Nbgrader menu lacks {item!r}: {items}"

    with page.expect_response(lambda response: "/nbgrader_version" in response.url) as version:
        menu(page, "Nbgrader", "Assignment List")
    assert version.value.ok, f"nbgrader_version: HTTP {version.value.status}"
    page.locator("#jp-main-dock-panel .lm-TabBar-tabLabel", has_text=re.compile("^Assignments$")).wait_for()
    no_dialog(page, "opening the nbgrader assignment list")
    assert not watch.problems, "\n".join(watch.problems)
