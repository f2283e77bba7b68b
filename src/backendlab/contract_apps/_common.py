"""What the eight contract apps share: the greeting, the item store, and a plain-Python check.

Only framework-neutral pieces live here, so each app module shows just its framework's own
idioms. FastAPI and Django validate with their own tools (a pydantic model, a Django form);
the other six ship no validation layer and call :func:`item_errors`.
"""

from __future__ import annotations

import itertools
from typing import Any

HELLO = "Hello, World!"
ITEM_COUNT = 10  # ids 1..ITEM_COUNT exist in a fresh app
DEFAULT_SLOW_MS = 50
MAX_SLOW_MS = 10_000


class ItemStore:
    """The items of one app in memory: ids 1..ITEM_COUNT at first, new ids counted on from there.

    Safe for threaded servers: ``next()`` on a counter and a dict assignment are each atomic
    in CPython.
    """

    def __init__(self) -> None:
        self.items: dict[int, dict[str, Any]] = {
            i: {"id": i, "name": f"item {i}", "price": i * 1.5} for i in range(1, ITEM_COUNT + 1)
        }
        self._ids = itertools.count(ITEM_COUNT + 1)

    def get(self, item_id: int) -> dict[str, Any] | None:
        return self.items.get(item_id)

    def add(self, name: str, price: float) -> dict[str, Any]:
        item_id = next(self._ids)
        item = self.items[item_id] = {"id": item_id, "name": name, "price": price}
        return item


def item_errors(data: Any) -> dict[str, str]:
    """Why ``data`` (a decoded JSON body) is not a valid new item; empty if it is.

    Strict JSON types: ``name`` must be a non-empty string, ``price`` a number (not a
    boolean, not a string) that is at least 0.
    """
    if not isinstance(data, dict):
        return {"body": "expected a JSON object"}
    errors = {}
    name = data.get("name")
    if not isinstance(name, str) or not name:
        errors["name"] = "a non-empty string is required"
    price = data.get("price")
    if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
        errors["price"] = "a number >= 0 is required"
    return errors


def slow_ms(raw: str | None) -> int | None:
    """The ``ms`` query parameter of ``/slow`` as an int in 0..MAX_SLOW_MS, or None if invalid."""
    if raw is None:
        return DEFAULT_SLOW_MS
    try:
        ms = int(raw)
    except ValueError:
        return None
    return ms if 0 <= ms <= MAX_SLOW_MS else None
