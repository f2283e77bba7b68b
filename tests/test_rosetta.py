"""backendlab.rosetta: what the Rosetta chapter computes from the contract apps and the contract suite."""

from __future__ import annotations

import pytest
import requests

from backendlab import serve
from backendlab.contract_apps import IMPLEMENTATIONS
from backendlab.rosetta import (
    concurrent_gets,
    junit_outcomes,
    media_type,
    production_command,
    source_facts,
    source_path,
    table,
)

SOURCE = '''"""A module docstring
on two lines."""

import asyncio


# a comment
def make_app():
    """A function docstring."""
    x = 1  # code with a comment

    async def handler():
        await asyncio.sleep(0)

    return x
'''


def test_source_facts_count_code_lines_and_function_kinds() -> None:
    facts = source_facts(SOURCE)
    assert facts.lines == 15
    # import, def make_app, x = 1, async def, await, return
    assert facts.code_lines == 6
    assert (facts.async_functions, facts.sync_functions) == (1, 1)


def test_source_facts_of_every_contract_app_file() -> None:
    for key in IMPLEMENTATIONS:
        path = source_path(key)
        assert path.name == f"{key}_app.py" and path.exists()
        facts = source_facts(path.read_text())
        assert 0 < facts.code_lines < facts.lines
    assert source_facts(source_path("sanic").read_text()).async_functions >= 5


def test_production_commands_take_a_free_port_and_drop_comments() -> None:
    for impl in IMPLEMENTATIONS.values():
        command = production_command(impl)
        assert "--port {port}" in command and "8000" not in command and "#" not in command, command
    assert production_command(IMPLEMENTATIONS["tornado"]) == "python -m backendlab.bench.serve tornado --port {port}"


def test_outcomes_are_read_per_test_from_junit_xml() -> None:
    xml = """<testsuites><testsuite>
      <testcase classname="tests.test_contract" name="test_contract[flask-get-json]" />
      <testcase classname="tests.test_contract" name="test_contract[fastapi-post-items-invalid]">
        <failure message="assert 400 == 422" /></testcase>
      <testcase classname="tests.test_contract" name="test_contract[django-get-slow]"><error message="x" /></testcase>
      <testcase classname="tests.test_contract" name="test_contract[sanic-get-item]"><skipped /></testcase>
      <testcase classname="tests.test_contract" name="test_registry_covers_the_eight_frameworks" />
    </testsuite></testsuites>"""
    assert junit_outcomes(xml) == {
        "test_contract[flask-get-json]": "passed",
        "test_contract[fastapi-post-items-invalid]": "failed",
        "test_contract[django-get-slow]": "failed",
        "test_contract[sanic-get-item]": "skipped",
        "test_registry_covers_the_eight_frameworks": "passed",
    }


def test_media_type_names_what_the_answer_says_it_is() -> None:
    def answer(content_type: str | None) -> requests.Response:
        response = requests.Response()
        if content_type is not None:
            response.headers["Content-Type"] = content_type
        return response

    assert media_type(answer("application/json")) == "JSON"
    assert media_type(answer("text/html; charset=UTF-8")) == "HTML"
    assert media_type(answer("Text/Plain;charset=utf-8")) == "text"
    assert media_type(answer("application/xml")) == "application/xml"
    assert media_type(answer(None)) == "none"


def test_table_aligns_columns_under_a_rule() -> None:
    assert table(["a", "long header"], [[1, "x"], ["wide cell", 22]]).splitlines() == [
        "a          long header",
        "---------  -----------",
        "1          x",
        "wide cell  22",
    ]


def test_concurrent_gets_overlap_on_an_async_app_and_check_every_status() -> None:
    with serve(IMPLEMENTATIONS["fastapi"].make_app()) as server:
        seconds = concurrent_gets(server.url + "/slow?ms=200", 5)
        assert 0.2 <= seconds < 1.0  # five waits of 200 ms, not one after another
        with pytest.raises(AssertionError, match="404"):
            concurrent_gets(server.url + "/items/999", 2)
