"""Self-checks for the chapters' "Try it" exercises: one sentence on what is right or what is not yet.

Practice only: nothing here is graded (the graded assignments are nbgrader notebooks in
``exercises/``). A check never raises, so Run All goes on with an unfinished exercise::

    response = requests.get(server.url + "/hello/Ada", timeout=5)
    check_response(response, status=200, json={"greeting": "Hello, Ada!"},
                   hint="add a route with a <name> part to its path")

prints ``Correct: GET /hello/Ada answered 200 with the expected JSON.`` or, for example,
``Not yet: GET /hello/Ada answered 404, expected 200 (add a route with a <name> part to its path).``
Each check returns ``True`` or ``False`` too, so several can be combined with ``all([...])``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

__all__ = ["CORRECT", "NOT_YET", "check", "check_response", "fetch"]

CORRECT = "Correct:"
NOT_YET = "Not yet:"
_MISSING = object()


def _say(passed: bool, sentence: str) -> bool:
    print(f"{CORRECT if passed else NOT_YET} {sentence}")
    return passed


def _with_hint(sentence: str, hint: str | None) -> str:
    return f"{sentence} ({hint})." if hint else f"{sentence}."


def check(passed: bool, correct: str, not_yet: str) -> bool:
    """Print ``Correct: <correct>`` or ``Not yet: <not_yet>`` and return ``passed``."""
    return _say(bool(passed), correct if passed else not_yet)


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json(value: Any) -> str:
    return _shorten(jsonlib.dumps(value, ensure_ascii=False))


def _text(value: str) -> str:
    return _shorten(repr(value))


def fetch(method: str, url: str, *, timeout: float = 10, **kwargs: Any) -> requests.Response | None:
    """``requests.request(method, url, ...)`` that never raises: when no answer comes back (the
    server dropped the connection, say, because the app returned ``str`` instead of ``bytes``), it
    prints one ``Not yet:`` sentence and returns ``None``, which :func:`check_response` reports as
    not correct without raising either."""
    try:
        return requests.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        path = urlsplit(url).path or "/"
        reason = f"{type(exc).__name__}: {str(exc)[:160]}"
        _say(False, f"{method.upper()} {path} got no answer ({reason}); the server's log says why, "
                    "for example server.log_text")
        return None


def check_response(
    response: requests.Response | None,
    *,
    status: int | None = None,
    json: Any = _MISSING,
    json_contains: Mapping[str, Any] | None = None,
    text_contains: str | None = None,
    headers: Mapping[str, str] | None = None,
    hint: str | None = None,
) -> bool:
    """Compare what a client got with what the exercise asks for; print one sentence; return the verdict.

    ``json`` must equal the whole body; ``json_contains`` only the given keys; ``headers`` are
    compared case-insensitively by name, exactly by value. The first difference found is reported.
    ``None`` (what :func:`fetch` returns when no answer came back) is not correct; :func:`fetch`
    has already said why.
    """
    if response is None:
        return False
    request = response.request
    if request is not None:
        url = urlsplit(request.url)
        target = f"{request.method} {url.path or '/'}" + (f"?{url.query}" if url.query else "")
    else:
        target = "the request"
    if status is not None and response.status_code != status:
        return _say(False, _with_hint(f"{target} answered {response.status_code}, expected {status}", hint))
    for name, expected in (headers or {}).items():
        got = response.headers.get(name)
        if got != expected:
            found = "missing" if got is None else repr(got)
            return _say(False, _with_hint(f"{target}: header {name} is {found}, expected {expected!r}", hint))
    if text_contains is not None and text_contains not in response.text:
        return _say(
            False,
            _with_hint(f"{target} answered {_text(response.text)}, which does not contain {text_contains!r}", hint),
        )
    if json is not _MISSING or json_contains is not None:
        try:
            body = response.json()
        except ValueError:
            return _say(False, _with_hint(f"{target} answered {_text(response.text)}, which is not JSON", hint))
        if json is not _MISSING and body != json:
            return _say(False, _with_hint(f"{target} answered {_json(body)}, expected {_json(json)}", hint))
        for key, expected in (json_contains or {}).items():
            if not isinstance(body, dict) or key not in body:
                return _say(False, _with_hint(f"{target} answered {_json(body)}, with no key {_json(key)}", hint))
            if body[key] != expected:
                return _say(
                    False,
                    _with_hint(f"{target} answered {_json(key)}: {_json(body[key])}, expected {_json(expected)}", hint),
                )
    details = []
    if json is not _MISSING or json_contains is not None:
        details.append("the expected JSON")
    elif text_contains is not None:
        details.append(f"a body containing {text_contains!r}")
    if headers:
        details.append("the expected headers")
    suffix = f" with {' and '.join(details)}" if details else ""
    return _say(True, f"{target} answered {response.status_code}{suffix}.")
