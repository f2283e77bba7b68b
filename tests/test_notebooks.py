"""Every chapter notebook: Run All twice in one kernel works and leaves nothing behind.

nbval (configured in pyproject.toml) separately compares each notebook's committed
outputs with a fresh run; this test covers what nbval cannot: a learner pressing
Run All again in the same kernel, and servers, threads or sockets left over.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from backendlab.notebook_runner import CELL_TIMEOUT, KERNEL_NAME

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))

PROBE = """
import json as _json, threading as _threading, time as _time, psutil as _psutil
_alive = lambda: {t.name for t in _threading.enumerate() if t.is_alive()}
_first = globals().setdefault("_backendlab_probe_threads", _alive())  # the first probe's threads
_deadline = _time.monotonic() + 10
while _alive() - _first and _time.monotonic() < _deadline:  # threads told to stop, still finishing
    _time.sleep(0.05)
print(_json.dumps({
    "threads": sorted(_alive()),
    "listening": sorted(
        f"{c.laddr.ip}:{c.laddr.port}" for c in _psutil.Process().net_connections("inet") if c.status == "LISTEN"
    ),
    "servers": [repr(s) for s in __import__("backendlab").running_servers()],
    "children": sorted(
        " ".join(p.cmdline()[:4]) for p in _psutil.Process().children(recursive=True)
        if p.status() != _psutil.STATUS_ZOMBIE
    ),
}))
"""


def run_probe(client: NotebookClient) -> dict:
    cell = nbformat.v4.new_code_cell(PROBE)
    client.execute_cell(cell, 0)
    text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
    return json.loads(text.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_run_all_twice_in_one_kernel_leaves_nothing_behind(path: Path, tmp_path: Path) -> None:
    # In a copy of the notebooks folder: chapters write the files a learner would have on disk
    # (%%writefile), and nbval may be running the same chapter in place at the same time.
    folder = shutil.copytree(path.parent, tmp_path / "notebooks")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(folder)}},
    )
    with client.setup_kernel():
        before = run_probe(client)
        for run in (1, 2):
            for index, cell in enumerate(notebook.cells):
                if cell.cell_type == "code":
                    try:
                        client.execute_cell(cell, index)
                    except Exception as exc:
                        pytest.fail(f"Run All #{run}: cell {index} of {path.name} failed:\n{exc}")
        after = run_probe(client)
    assert after["servers"] == [], f"{path.name} leaves servers running: {after['servers']}"
    new_threads = sorted(set(after["threads"]) - set(before["threads"]))
    assert new_threads == [], f"{path.name} leaves threads alive after Run All x2: {new_threads}"
    new_sockets = sorted(set(after["listening"]) - set(before["listening"]))
    assert new_sockets == [], f"{path.name} leaves listening sockets after Run All x2: {new_sockets}"
    new_children = sorted(set(after["children"]) - set(before["children"]))
    assert new_children == [], f"{path.name} leaves processes running after Run All x2: {new_children}"


def test_every_chapter_carries_a_kernelspec() -> None:
    assert CHAPTERS, "no chapter notebooks found"
    for path in CHAPTERS:
        notebook = nbformat.read(path, as_version=4)
        assert notebook.metadata.get("kernelspec", {}).get("name") == KERNEL_NAME, path.name


def test_committed_outputs_come_from_one_clean_run() -> None:
    for path in CHAPTERS:
        notebook = nbformat.read(path, as_version=4)
        counts = [c.execution_count for c in notebook.cells if c.cell_type == "code" and c.source.strip()]
        assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-run `make notebooks` ({counts[:8]}...)"
        errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{path.name} has a committed error output"


@pytest.mark.slow
def test_re_executing_an_unchanged_notebook_writes_the_same_file(tmp_path: Path) -> None:
    """``make notebooks`` on an unchanged notebook leaves no diff: widget ids are deterministic."""
    from backendlab.notebook_runner import WIDGET_STATE, execute_notebook

    source = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import ipywidgets\nipywidgets.VBox([ipywidgets.IntSlider(3), ipywidgets.HTML('x')])"
            ),
            nbformat.v4.new_code_cell("print('streams', flush=True)\nprint('are merged')"),
        ]
    )
    runs = []
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        path = tmp_path / name / "widgets.ipynb"
        nbformat.write(source, path)
        execute_notebook(path, save=True)
        runs.append(path.read_bytes())
    state = nbformat.reads(runs[0].decode(), as_version=4).metadata["widgets"][WIDGET_STATE]["state"]
    assert len(state) >= 3, "the notebook saved no widget state: nothing was compared"
    assert runs[0] == runs[1], "two runs of the same notebook wrote different files"
