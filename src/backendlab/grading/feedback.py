"""Feedback that keeps hidden tests hidden.

nbgrader's feedback HTML shows each test cell as it ran: hidden tests included, source and all.
:class:`HideHiddenTests` (a preprocessor of ``GenerateFeedback``) replaces each hidden block by
one comment line, and removes hidden lines from every output of the notebook (tracebacks show
the lines around a failure; code a student wrote could print what ran). What stays is what a
student needs: which test failed, its assertion message, and tracebacks through their own code.
"""

from __future__ import annotations

import re
from typing import Any

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["HideHiddenTests", "hidden_lines_in", "hide_hidden_tests"]

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
GUTTER = re.compile(r"^\s*(?:-*>\s*)?\d*\s?")
# Hidden lines shorter than this (a lone bracket, "else:") are too common to be worth hiding.
MIN_HIDDEN_LINE = 8
WITHHELD = "[hidden test line withheld]"


def split_hidden(source: str) -> tuple[str, list[str]]:
    """The source with each hidden block replaced by a comment, and the hidden lines."""
    shown: list[str] = []
    hidden: list[str] = []
    inside = False
    for line in source.splitlines():
        marker = line.strip()
        if marker == BEGIN:
            inside = True
            continue
        if marker == END:
            inside = False
            shown.append("# (hidden tests: their outcome is shown below)")
            continue
        (hidden if inside else shown).append(line)
    if inside:  # no END marker: everything after BEGIN was hidden
        shown.append("# (hidden tests: their outcome is shown below)")
    return "\n".join(shown), hidden


def _bare(line: str) -> str:
    """A line without colours and without a traceback's gutter (``----> 12``, ``     13``)."""
    return GUTTER.sub("", ANSI.sub("", line)).strip()


def hidden_lines_in(text: str, hidden: set[str]) -> list[str]:
    """The lines of ``text`` that are hidden test lines (whole lines, as source or in a traceback)."""
    return [line for line in text.split("\n") if _bare(line) in hidden]


def _redact(text: str, hidden: set[str]) -> str:
    return "\n".join(WITHHELD if _bare(line) in hidden else line for line in text.split("\n"))


def hide_hidden_tests(notebook: Any) -> int:
    """Hide every hidden test of ``notebook`` in place; return how many hidden lines there were."""
    hidden_lines: set[str] = set()
    visible_lines: set[str] = set()
    for cell in notebook.cells:
        if cell.cell_type == "code" and BEGIN in cell.source:
            cell.source, hidden = split_hidden(cell.source)
            hidden_lines |= {line.strip() for line in hidden if len(line.strip()) >= MIN_HIDDEN_LINE}
        visible_lines |= {line.strip() for line in cell.source.splitlines()}
    hidden_lines -= visible_lines  # a line the student can read anyway (or wrote) stays readable
    if not hidden_lines:
        return 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = _redact(output.get("text", ""), hidden_lines)
            elif output.get("output_type") == "error":
                output["traceback"] = [_redact(entry, hidden_lines) for entry in output.get("traceback", [])]
                output["evalue"] = _redact(str(output.get("evalue", "")), hidden_lines)
            elif output.get("output_type") in ("display_data", "execute_result"):
                data = output.get("data", {})
                for mime, value in list(data.items()):
                    if isinstance(value, str) and mime.startswith("text/"):
                        data[mime] = _redact(value, hidden_lines)
    return len(hidden_lines)


class HideHiddenTests(Preprocessor):
    """Keep hidden tests out of the feedback; ``HideHiddenTests.enabled = False`` shows them."""

    enabled = Bool(True, help="Hide hidden test source in feedback (False: show it, as nbgrader does).").tag(
        config=True)

    def preprocess(self, nb: Any, resources: Any) -> tuple[Any, Any]:
        if self.enabled:
            hide_hidden_tests(nb)
        return nb, resources
