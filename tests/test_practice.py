"""The exercises' self-check helper: one sentence saying what is right or what is not yet."""

from __future__ import annotations

import json

import pytest
import requests

from backendlab.practice import check, check_response


def response(
    status: int = 200,
    body: object = None,
    *,
    text: str | None = None,
    headers: dict[str, str] | None = None,
    path: str = "/hello/Ada",
) -> requests.Response:
    made = requests.Response()
    made.status_code = status
    made._content = (text if text is not None else json.dumps(body)).encode()
    made.headers.update(headers or {})
    made.request = requests.Request("GET", "http://127.0.0.1:1" + path).prepare()
    return made


@pytest.mark.parametrize(
    ("made", "expectation", "sentence"),
    [
        (response(404, {}), {"status": 200}, "Not yet: GET /hello/Ada answered 404, expected 200 (a hint)."),
        (
            response(200, {"greeting": "Hi"}),
            {"json": {"greeting": "Hello, Ada!"}},
            'Not yet: GET /hello/Ada answered {"greeting": "Hi"}, expected {"greeting": "Hello, Ada!"} (a hint).',
        ),
        (
            response(200, {"id": 1}),
            {"json_contains": {"name": "Ada"}},
            'Not yet: GET /hello/Ada answered {"id": 1}, with no key "name" (a hint).',
        ),
        (
            response(200, {"name": "Bob"}),
            {"json_contains": {"name": "Ada"}},
            'Not yet: GET /hello/Ada answered "name": "Bob", expected "Ada" (a hint).',
        ),
        (
            response(200, text="<html>"),
            {"json": {}},
            "Not yet: GET /hello/Ada answered '<html>', which is not JSON (a hint).",
        ),
        (
            response(200, text="Hi"),
            {"text_contains": "Ada"},
            "Not yet: GET /hello/Ada answered 'Hi', which does not contain 'Ada' (a hint).",
        ),
        (
            response(200, {}),
            {"headers": {"X-Team": "blue"}},
            "Not yet: GET /hello/Ada: header X-Team is missing, expected 'blue' (a hint).",
        ),
    ],
)
def test_the_first_difference_is_said_in_one_sentence(made, expectation, sentence, capsys) -> None:
    assert check_response(made, hint="a hint", **expectation) is False
    assert capsys.readouterr().out == sentence + "\n"


def test_a_matching_response_is_correct(capsys) -> None:
    made = response(201, {"name": "Ada", "id": 3}, headers={"location": "/people/3"})
    assert check_response(made, status=201, json_contains={"name": "Ada"}, headers={"Location": "/people/3"})
    assert capsys.readouterr().out == (
        "Correct: GET /hello/Ada answered 201 with the expected JSON and the expected headers.\n"
    )


def test_whole_json_must_match_when_json_is_given(capsys) -> None:
    assert not check_response(response(200, {"greeting": "Hello, Ada!", "extra": 1}), json={"greeting": "Hello, Ada!"})
    assert capsys.readouterr().out.startswith("Not yet:")
    assert check_response(response(200, None), json=None)  # null is a JSON body like any other
    assert capsys.readouterr().out.startswith("Correct:")


def test_the_query_string_is_part_of_what_was_asked(capsys) -> None:
    check_response(response(400, {}, path="/square?n=seven"), status=200)
    assert capsys.readouterr().out == "Not yet: GET /square?n=seven answered 400, expected 200.\n"


def test_without_a_hint_the_sentence_still_ends(capsys) -> None:
    check_response(response(500, {}), status=200)
    assert capsys.readouterr().out == "Not yet: GET /hello/Ada answered 500, expected 200.\n"


def test_check_prints_the_sentence_for_its_verdict(capsys) -> None:
    assert check(3 > 2, "three is more than two", "three should be more than two") is True
    assert check([], "a list has items", "the list is empty") is False
    assert capsys.readouterr().out == "Correct: three is more than two\nNot yet: the list is empty\n"


def test_fetch_returns_the_response_or_says_why_there_was_none(capsys) -> None:
    from backendlab import serve
    from backendlab.practice import fetch

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        if environ["PATH_INFO"] == "/str":
            return ["not bytes"]  # a learner's mistake: the server drops the connection
        return [b"fine"]

    with serve(app) as server:
        assert fetch("get", server.url + "/ok").text == "fine"
        assert capsys.readouterr().out == ""
        broken = fetch("get", server.url + "/str")
        assert broken is None
        said = capsys.readouterr().out
        assert said.startswith("Not yet: GET /str got no answer (") and "server.log_text" in said
        assert check_response(broken, status=200) is False
        assert capsys.readouterr().out == ""  # fetch already said why


def test_long_bodies_are_cut_to_120_characters(capsys) -> None:
    check_response(response(200, text="x" * 300), text_contains="Ada")
    said = capsys.readouterr().out
    assert "'" + "x" * 118 + "…" in said and "x" * 119 not in said
    check_response(response(200, text="y" * 118), text_contains="Ada")  # repr adds 2 quotes: exactly 120
    assert "'" + "y" * 118 + "'" in capsys.readouterr().out


def test_json_is_shown_as_written_not_escaped(capsys) -> None:
    check_response(response(200, {"name": "Zoë"}), json={"name": "Chloé"})
    assert capsys.readouterr().out == 'Not yet: GET /hello/Ada answered {"name": "Zoë"}, expected {"name": "Chloé"}.\n'


def test_a_wrong_header_value_is_shown(capsys) -> None:
    check_response(response(200, {}, headers={"X-Team": "red"}), headers={"X-Team": "blue"})
    assert capsys.readouterr().out == "Not yet: GET /hello/Ada: header X-Team is 'red', expected 'blue'.\n"


@pytest.mark.parametrize(
    ("expectation", "sentence"),
    [
        ({"status": 200}, "Correct: GET /hello/Ada answered 200.\n"),
        ({"text_contains": "Ada"}, "Correct: GET /hello/Ada answered 200 with a body containing 'Ada'.\n"),
        ({"json": {"greeting": "Hello, Ada"}}, "Correct: GET /hello/Ada answered 200 with the expected JSON.\n"),
    ],
)
def test_the_correct_sentence_says_what_was_checked(expectation, sentence, capsys) -> None:
    assert check_response(response(200, {"greeting": "Hello, Ada"}), **expectation)
    assert capsys.readouterr().out == sentence


def test_a_response_without_its_request_or_path_is_still_described(capsys) -> None:
    bare = response(404, {}, path="")
    check_response(bare, status=200)
    bare.request = None
    check_response(bare, status=200)
    assert capsys.readouterr().out == (
        "Not yet: GET / answered 404, expected 200.\nNot yet: the request answered 404, expected 200.\n"
    )


def test_fetch_passes_its_arguments_and_says_why_nothing_came_back(capsys) -> None:
    import socket

    from backendlab import serve
    from backendlab.practice import fetch

    def echo(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    with serve(echo) as server:
        assert fetch("POST", server.url + "/", json={"a": 1}).json() == {"a": 1}
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        assert fetch("get", f"http://127.0.0.1:{port}", timeout=0.3) is None
    said = capsys.readouterr().out
    assert said.startswith("Not yet: GET / got no answer (ReadTimeout: ") and "timed out" in said
    assert said.endswith("); the server's log says why, for example server.log_text\n")
