"""Execute chapter notebooks top to bottom in a fresh kernel (``make notebooks``).

``python -m backendlab.notebook_runner --save notebooks/*.ipynb`` re-executes each
notebook from its own folder and saves outputs and widget state, so what is committed
is exactly what a clean run produces (nbval then checks it).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
CELL_TIMEOUT = 300


# Set for every kernel, here and under nbval (tests/conftest.py), so outputs match.
KERNEL_ENV = {"PYTHONHASHSEED": "0", "NO_COLOR": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


def use_kernel_env() -> None:
    """Export :data:`KERNEL_ENV`; kernels started afterwards inherit it."""
    os.environ.update(KERNEL_ENV)


def normalise_metadata(notebook: nbformat.NotebookNode) -> None:
    """Every notebook carries a kernelspec, so JupyterLab opens it without a dialog."""
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata.setdefault("language_info", {"name": "python"})


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def merge_streams(notebook: nbformat.NotebookNode) -> None:
    """Join consecutive outputs of one stream in each cell.

    Whether a cell's prints arrive as one stdout message or two depends on when the kernel flushed,
    which differs between runs; joined, the saved notebook does not (the book and nbval join them too).
    """
    for cell in notebook.cells:
        merged: list = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (output.get("output_type") == "stream" and previous is not None
                    and previous.get("output_type") == "stream" and previous.get("name") == output.get("name")):
                previous["text"] = previous["text"] + output["text"]
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def stable_widget_ids(notebook: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The notebook with its widget model ids made deterministic.

    Each execution gives every widget a random id, so re-executing an unchanged chapter would
    rewrite every id (a diff to read on every ``make notebooks``). Models are numbered in the
    order the kernel created them (the saved state keeps that order until it is written) and each
    gets ``sha256(notebook name / number)``: the same notebook run the same way gets the same ids.
    """
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    if not state:
        return notebook
    renamed = {old: hashlib.sha256(f"{name}/{number}".encode()).hexdigest()[:32]
               for number, old in enumerate(state)}
    text = nbformat.writes(notebook)
    text = MODEL_ID.sub(lambda found: renamed.get(found.group(0), found.group(0)), text)
    return nbformat.reads(text, as_version=4)


MODEL_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def execute_notebook(path: Path, *, save: bool) -> float:
    """Run ``path`` top to bottom in a fresh kernel; optionally write the outputs back."""
    use_kernel_env()
    notebook = nbformat.read(path, as_version=4)
    normalise_metadata(notebook)
    notebook.metadata.pop("widgets", None)  # only the widgets of this run are saved
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name=KERNEL_NAME,
        resources={"metadata": {"path": str(path.parent.resolve())}},
        store_widget_state=True,
        record_timing=False,
    )
    started = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - started
    merge_streams(notebook)
    notebook = stable_widget_ids(notebook, path.stem)
    if save:
        nbformat.write(notebook, path)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--save", action="store_true", help="write outputs back into the notebooks")
    args = parser.parse_args(argv)
    failures = 0
    for path in args.notebooks:
        print(f"executing {path} ...", flush=True)
        try:
            elapsed = execute_notebook(path, save=args.save)
        except Exception as exc:  # report and go on with the other notebooks
            failures += 1
            print(f"  FAILED: {type(exc).__name__}: {str(exc)[-2000:]}", file=sys.stderr, flush=True)
        else:
            print(f"  ok in {elapsed:.1f} s{' (saved)' if args.save else ''}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
