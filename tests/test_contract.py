"""One HTTP contract, checked against all eight implementations in ``backendlab.contract_apps``.

Test ids read ``<framework>-<endpoint case>`` (``flask-get-json``, ``fastapi-post-items-invalid``),
so a run shows pass/fail per framework and endpoint. Each app is served in this process with
``backendlab.serve`` (one server per framework, started on first use, stopped when the module
ends); where frameworks legitimately differ (400 or 422, what a validator coerces) the expected
answer comes from the registry, which documents it.

Django: ``contract_apps.django_app`` configures Django's process-wide settings only if nothing
has yet, and does not depend on them otherwise (it resolves its own URL patterns per request).
Other tests in the same pytest process (``tests/framework_apps.py``) configure Django their
own way only when it is not configured yet and rely on their own ``ROOT_URLCONF``; so if this
module was the one to configure Django, it puts the settings back to unconfigured when it
ends (``settings._wrapped = empty``, as Django's own test suite does).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from backendlab import serve
from backendlab.contract_apps import FRAMEWORKS, IMPLEMENTATIONS, LENIENT_BODIES, Implementation
from backendlab.contract_apps._common import HELLO, ITEM_COUNT
from backendlab.serving import BackgroundServer

TIMEOUT = 10

INVALID_BODIES: dict[str, Any] = {
    "missing name": {"price": 1.0},
    "empty name": {"name": "", "price": 1.0},
    "null name": {"name": None, "price": 1.0},
    "missing price": {"name": "pen"},
    "negative price": {"name": "pen", "price": -0.01},
    "non-numeric price": {"name": "pen", "price": "abc"},
    "array body": [{"name": "pen", "price": 1.0}],
    "empty object": {},
}


class Servers:
    """Starts one server per framework on first use; stops them all at the end of the module."""

    def __init__(self) -> None:
        self.running: dict[str, BackgroundServer] = {}

    def url(self, framework: str) -> str:
        if framework not in self.running:
            app = IMPLEMENTATIONS[framework].make_app()
            self.running[framework] = serve(app, name=f"contract-{framework}")
        return self.running[framework].url

    def stop_all(self) -> None:
        for server in self.running.values():
            server.stop()
        self.running.clear()


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    from django.conf import settings

    django_was_configured = settings.configured
    started = Servers()
    try:
        yield started
    finally:
        started.stop_all()
        if not django_was_configured and settings.configured:
            from django.urls import clear_url_caches
            from django.utils.functional import empty

            settings._wrapped = empty
            clear_url_caches()


# -- the cases: each takes the implementation and the base URL ---------------------------------


def get_plaintext(impl: Implementation, url: str) -> None:
    response = requests.get(url + "/plaintext", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == HELLO


def get_json(impl: Implementation, url: str) -> None:
    response = requests.get(url + "/json", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"message": HELLO}


def get_item(impl: Implementation, url: str) -> None:
    for item_id in (1, ITEM_COUNT):
        response = requests.get(f"{url}/items/{item_id}", timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        item = response.json()
        assert item["id"] == item_id and isinstance(item["name"], str) and item["price"] >= 0


def get_item_unknown(impl: Implementation, url: str) -> None:
    for item_id in (0, ITEM_COUNT + 1000):
        assert requests.get(f"{url}/items/{item_id}", timeout=TIMEOUT).status_code == 404


def get_item_non_integer(impl: Implementation, url: str) -> None:
    for item_id in ("abc", "1.5"):
        response = requests.get(f"{url}/items/{item_id}", timeout=TIMEOUT)
        assert response.status_code == impl.non_integer_id_status, item_id


def post_items(impl: Implementation, url: str) -> None:
    for body in ({"name": "pen", "price": 2}, {"name": "ink", "price": 0.5}, {"name": "free sample", "price": 0}):
        response = requests.post(url + "/items", json=body, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        assert response.headers["Content-Type"].startswith("application/json")
        created = response.json()
        assert created["name"] == body["name"] and created["price"] == body["price"]
        assert created["id"] > ITEM_COUNT
        location = response.headers["Location"]
        assert urlsplit(location).path == f"/items/{created['id']}"  # relative, or absolute (Pyramid)
        fetched = requests.get(url + urlsplit(location).path, timeout=TIMEOUT)
        assert fetched.status_code == 200 and fetched.json() == created


def post_items_invalid(impl: Implementation, url: str) -> None:
    statuses = {
        reason: requests.post(url + "/items", json=body, timeout=TIMEOUT).status_code
        for reason, body in INVALID_BODIES.items()
    }
    assert statuses == dict.fromkeys(INVALID_BODIES, impl.invalid_status)


def post_items_malformed(impl: Implementation, url: str) -> None:
    response = requests.post(
        url + "/items", data=b'{"name": "pen", "price": ', headers={"Content-Type": "application/json"}, timeout=TIMEOUT
    )
    assert response.status_code == impl.invalid_status


def post_items_coercion(impl: Implementation, url: str) -> None:
    statuses = {
        case: requests.post(url + "/items", json=body, timeout=TIMEOUT).status_code
        for case, body in LENIENT_BODIES.items()
    }
    expected = {case: 201 if case in impl.coerces else impl.invalid_status for case in LENIENT_BODIES}
    assert statuses == expected


def get_slow(impl: Implementation, url: str) -> None:
    started = time.perf_counter()
    response = requests.get(url + "/slow", params={"ms": 30}, timeout=TIMEOUT)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert response.json() == {"slept_ms": 30}
    assert elapsed >= 0.03


def get_slow_invalid(impl: Implementation, url: str) -> None:
    for ms in ("abc", "-1", "10001"):
        assert requests.get(url + "/slow", params={"ms": ms}, timeout=TIMEOUT).status_code == impl.invalid_status


CASES: dict[str, Callable[[Implementation, str], None]] = {
    "get-plaintext": get_plaintext,
    "get-json": get_json,
    "get-item": get_item,
    "get-item-unknown": get_item_unknown,
    "get-item-non-integer": get_item_non_integer,
    "post-items": post_items,
    "post-items-invalid": post_items_invalid,
    "post-items-malformed": post_items_malformed,
    "post-items-coercion": post_items_coercion,
    "get-slow": get_slow,
    "get-slow-invalid": get_slow_invalid,
}


@pytest.mark.parametrize(
    ("framework", "case"),
    [(framework, case) for framework in FRAMEWORKS for case in CASES],
    ids=[f"{framework}-{case}" for framework in FRAMEWORKS for case in CASES],
)
def test_contract(framework: str, case: str, servers: Servers) -> None:
    CASES[case](IMPLEMENTATIONS[framework], servers.url(framework))


def test_registry_covers_the_eight_frameworks() -> None:
    assert FRAMEWORKS == ["flask", "fastapi", "django", "pyramid", "tornado", "sanic", "bottle", "cherrypy"]
    for key, impl in IMPLEMENTATIONS.items():
        assert impl.module_name == f"backendlab.contract_apps.{key}_app"
        assert impl.coerces <= set(LENIENT_BODIES)
        assert impl.invalid_status in (400, 422) and impl.non_integer_id_status in (404, 422)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_make_app_returns_a_fresh_app_each_call(framework: str, servers: Servers) -> None:
    impl = IMPLEMENTATIONS[framework]
    first, second = impl.make_app(), impl.make_app()
    assert first is not second
    with serve(first) as one, serve(second) as two:
        created = requests.post(one.url + "/items", json={"name": "only in one", "price": 1}, timeout=TIMEOUT)
        assert created.status_code == 201
        new_id = created.json()["id"]
        assert requests.get(f"{one.url}/items/{new_id}", timeout=TIMEOUT).status_code == 200
        assert requests.get(f"{two.url}/items/{new_id}", timeout=TIMEOUT).status_code == 404
