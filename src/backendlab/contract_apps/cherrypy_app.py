"""The contract API in CherryPy: exposed methods of objects, on cheroot (CherryPy's HTTP server).

``/items`` uses CherryPy's method dispatcher (``GET``/``POST`` methods of one object), set in the
config dict as CherryPy's REST tutorial does, because one URL answers two HTTP methods; the rest
uses its default object-tree dispatcher. ``make_app`` returns a ``cherrypy.Application`` instead
of calling ``cherrypy.quickstart``: the course serves it with cheroot directly, without CherryPy's
process-wide engine, so several apps can run in one process.
"""

from __future__ import annotations

import time

import cherrypy

from backendlab.contract_apps._common import HELLO, ItemStore, item_errors, slow_ms


class Items:
    exposed = True

    def __init__(self, store: ItemStore) -> None:
        self.store = store

    @cherrypy.tools.json_out()
    def GET(self, item_id: str) -> dict:  # noqa: N802 (the method dispatcher's naming)
        item = self.store.get(int(item_id)) if item_id.isdigit() else None
        if item is None:
            raise cherrypy.NotFound()
        return item

    @cherrypy.tools.json_in()  # malformed JSON: 400 from the tool
    @cherrypy.tools.json_out()
    def POST(self) -> dict:  # noqa: N802
        data = cherrypy.request.json
        if errors := item_errors(data):
            cherrypy.response.status = 400
            return {"errors": errors}
        item = self.store.add(data["name"], data["price"])
        cherrypy.response.status = 201
        cherrypy.response.headers["Location"] = f"/items/{item['id']}"
        return item


class Root:
    def __init__(self, store: ItemStore) -> None:
        self.items = Items(store)

    @cherrypy.expose
    def plaintext(self) -> str:
        cherrypy.response.headers["Content-Type"] = "text/plain;charset=utf-8"
        return HELLO

    @cherrypy.expose
    @cherrypy.tools.json_out()
    def json(self) -> dict:
        return {"message": HELLO}

    @cherrypy.expose
    @cherrypy.tools.json_out()
    def slow(self, ms: str | None = None) -> dict:
        milliseconds = slow_ms(ms)
        if milliseconds is None:
            raise cherrypy.HTTPError(400)
        time.sleep(milliseconds / 1000)  # blocks this worker thread
        return {"slept_ms": milliseconds}


def make_app() -> cherrypy.Application:
    config = {
        "/": {"log.screen": False},
        "/items": {"request.dispatch": cherrypy.dispatch.MethodDispatcher()},
    }
    return cherrypy.Application(Root(ItemStore()), "", config=config)
