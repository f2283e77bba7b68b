"""Assignment 03-async (Sanic and Tornado) solved in other idioms than the instructor's, and solved wrongly.

Each entry is one student's whole submission: for each notebook (by stem), the source of every solution
cell (by grade_id), as the student's cell would hold it. Every CORRECT entry must score full marks (20:
Sanic 10, Tornado 10) when graded with the hidden tests; every WRONG entry exactly its ``score``.
"""

from .idioms_02_full_stack import edited

ASSIGNMENT = "03-async"

# ----------------------------------------------------------------------------------------------
# Sanic
# ----------------------------------------------------------------------------------------------

# Middleware registered with app.register_middleware(fn, ...), state in a dataclass on request.ctx, the 400
# raised as BadRequest and answered by an exception handler (with an extra "message" key).
_SANIC_MIDDLEWARE_REGISTER = '''
from dataclasses import dataclass

from sanic.exceptions import BadRequest


@dataclass
class Trace:
    request_id: str
    started: float


def add_middleware(app):
    """Request and response middleware, registered without decorators."""

    def trace_request(request):
        header = request.headers.get("X-Request-ID")
        valid = header is not None and VALID_REQUEST_ID.fullmatch(header) is not None
        trace = Trace(header if valid else uuid.uuid4().hex, time.perf_counter())
        request.ctx.trace = trace
        request.ctx.request_id = trace.request_id
        if header is not None and not valid:
            raise BadRequest(f"invalid X-Request-ID {header!r}")

    def stamp_response(request, resp):
        trace = request.ctx.trace
        elapsed = (time.perf_counter() - trace.started) * 1000
        resp.headers.update({
            "X-Request-ID": trace.request_id,
            "Cache-Control": "no-store",
            "Server-Timing": "app;dur=%.2f" % elapsed,
        })

    def bad_request(request, exception):
        return response.json({"error": "bad request", "message": str(exception)}, status=400)

    app.register_middleware(trace_request, "request")
    app.register_middleware(stamp_response, attach_to="response")
    app.error_handler.add(BadRequest, bad_request)
'''

# /ticks as an HTTPMethodView in a Blueprint inside a Blueprint.group, streamed through ResponseStream.
_SANIC_TICKS_VIEW = '''
from sanic import Blueprint
from sanic.response import ResponseStream
from sanic.views import HTTPMethodView


class TicksView(HTTPMethodView):
    async def get(self, request, n):
        if n < 1 or n > MAX_TICKS:
            return response.json({"error": "n out of range"}, status=400)

        async def produce(stream):
            for i in range(1, n + 1):
                if i > 1:
                    await asyncio.sleep(TICK_DELAY)
                await stream.write(json.dumps({"tick": i, "of": n}) + "\\n")

        return ResponseStream(produce, content_type="application/x-ndjson")


def add_ticks(app):
    ticks = Blueprint("ticks")
    ticks.add_route(TicksView.as_view(), "/ticks/<n:int>")
    app.blueprint(Blueprint.group(ticks))
'''

# @app.middleware("request") / @app.middleware("response") with sync functions, start times in a dict on
# app.ctx.
_SANIC_MIDDLEWARE_DECORATOR = '''
def add_middleware(app):
    app.ctx.started = {}

    @app.middleware("request")
    def give_id(request):
        app.ctx.started[id(request)] = time.perf_counter()
        sent = request.headers.get("x-request-id")
        ok = sent is not None and bool(VALID_REQUEST_ID.fullmatch(sent))
        request.ctx.request_id = sent if ok else uuid.uuid4().hex
        if sent is not None and not ok:
            return response.json({"error": "bad X-Request-ID"}, 400)

    @app.middleware("response")
    def headers(request, resp):
        start = app.ctx.started.pop(id(request), time.perf_counter())
        resp.headers["x-request-id"] = request.ctx.request_id
        resp.headers["cache-control"] = "no-store"
        resp.headers["server-timing"] = "app;dur={:.2f}".format((time.perf_counter() - start) * 1e3)
'''

# /ticks added with app.add_route(plain function), eof() in a finally.
_SANIC_TICKS_ADD_ROUTE = '''
async def ticks_handler(request, n):
    if n not in range(1, MAX_TICKS + 1):
        return response.json({"error": f"{n} is not in 1..{MAX_TICKS}"}, status=400)
    out = await request.respond(content_type="application/x-ndjson")
    try:
        for i in range(n):
            if i:
                await asyncio.sleep(TICK_DELAY)
            await out.send(f'{{"tick": {i + 1}, "of": {n}}}\\n')
    finally:
        await out.eof()


def add_ticks(app):
    app.add_route(ticks_handler, "/ticks/<n:int>", methods=["GET"])
'''

# Module-level middleware functions passed to app.on_request(fn) / app.on_response(fn).
_SANIC_MIDDLEWARE_CALLS = '''
def _start(request):
    request.ctx.t0 = time.perf_counter()
    given = request.headers.getone("X-Request-ID", None)
    if given is None:
        request.ctx.request_id = uuid.uuid4().hex
    elif VALID_REQUEST_ID.fullmatch(given):
        request.ctx.request_id = given
    else:
        request.ctx.request_id = uuid.uuid4().hex
        return response.json({"error": "X-Request-ID: 1 to 64 of A-Z a-z 0-9 -"}, status=400)


def _finish(request, resp):
    ms = (time.perf_counter() - request.ctx.t0) * 1000
    for name, value in (("X-Request-ID", request.ctx.request_id), ("Cache-Control", "no-store"),
                        ("Server-Timing", f"app;dur={ms:.2f}")):
        resp.headers[name] = value


def add_middleware(app):
    app.on_request(_start)
    app.on_response(_finish)
'''

# One module-level Blueprint, made once and attached to every new app, with @bp.route(..., methods=[...]).
_SANIC_TICKS_BLUEPRINT = '''
from sanic import Blueprint

ticks_bp = Blueprint("ticks_bp")


@ticks_bp.route("/ticks/<n:int>", methods=["GET"])
async def stream_ticks(request, n: int):
    if not (0 < n <= MAX_TICKS):
        return response.json({"error": "n must be 1..%d" % MAX_TICKS}, status=400)
    resp = await request.respond(status=200, content_type="application/x-ndjson")
    for i in range(1, n + 1):
        await resp.send(json.dumps({"tick": i, "of": n}).encode() + b"\\n")
        if i != n:
            await asyncio.sleep(TICK_DELAY)
    await resp.eof()


def add_ticks(app):
    app.blueprint(ticks_bp)
'''

# ----------------------------------------------------------------------------------------------
# Tornado
# ----------------------------------------------------------------------------------------------

# The chat demo's idiom, a class attribute shared by all connections instead of the app's settings, a base
# class that sends JSON text, async def open/on_message.
_TORNADO_ROOM_CLASS_STATE = '''
import collections
import json


class JsonSocket(tornado.websocket.WebSocketHandler):
    def send_json(self, payload):
        if self.ws_connection is not None and not self.ws_connection.is_closing():
            self.write_message(json.dumps(payload))


class RoomHandler(JsonSocket):
    rooms = collections.defaultdict(set)  # room -> handlers, shared by all connections

    async def open(self, room):
        self.room, self.name = room, self.get_argument("name", "anonymous")
        self.rooms[room].add(self)
        self.send_json({"type": "welcome", "room": room, "members": len(self.rooms[room])})

    async def on_message(self, message):
        for other in list(self.rooms[self.room]):
            if other is not self:
                other.send_json({"type": "message", "from": self.name, "text": message})

    def on_close(self):
        members = self.rooms.get(getattr(self, "room", None))
        if members is None:
            return
        members.discard(self)
        if not members:
            del self.rooms[self.room]
        for other in list(members):
            other.send_json({"type": "left", "name": self.name, "members": len(members)})
'''

# @gen.coroutine methods, lists of handlers in self.application.settings, broadcasts scheduled with
# IOLoop.add_callback.
_TORNADO_ROOM_GEN_COROUTINE = '''
from tornado import gen
from tornado.ioloop import IOLoop


class RoomHandler(tornado.websocket.WebSocketHandler):
    @property
    def members(self):
        return self.application.settings["rooms"].setdefault(self.room, [])

    def broadcast(self, payload, skip=None):
        for member in list(self.members):
            if member is not skip:
                try:
                    member.write_message(payload)
                except tornado.websocket.WebSocketClosedError:
                    pass

    @gen.coroutine
    def open(self, room):
        self.room = room
        self.name = self.get_query_argument("name", default="anonymous")
        self.members.append(self)
        yield self.write_message({"type": "welcome", "room": room, "members": len(self.members)})

    @gen.coroutine
    def on_message(self, message):
        IOLoop.current().add_callback(self.broadcast, {"type": "message", "from": self.name, "text": message}, self)

    def on_close(self):
        if not hasattr(self, "room"):
            return
        if self in self.members:
            self.members.remove(self)
        left = {"type": "left", "name": self.name, "members": len(self.members)}
        if not self.members:
            self.application.settings["rooms"].pop(self.room, None)
        else:
            self.broadcast(left)
'''

# The rooms as an attribute of the Application object made on first use, a dict handler -> name per room, an
# async on_message that gathers the writes.
_TORNADO_ROOM_APP_ATTRIBUTE = '''
import asyncio


class RoomHandler(tornado.websocket.WebSocketHandler):
    def _room(self):
        app = self.application
        if not hasattr(app, "members_by_room"):
            app.members_by_room = {}
        return app.members_by_room.setdefault(self.room, {})

    def open(self, room):
        self.room = room
        members = self._room()
        members[self] = self.get_query_argument("name", "anonymous")
        self.write_message({"type": "welcome", "room": room, "members": len(members)})

    async def on_message(self, message):
        members = self._room()
        payload = {"type": "message", "from": members[self], "text": message}
        others = [h for h in members if h is not self and h.ws_connection and not h.ws_connection.is_closing()]
        await asyncio.gather(*(h.write_message(payload) for h in others), return_exceptions=True)

    def on_close(self):
        if getattr(self, "room", None) is None:
            return
        members = self._room()
        name = members.pop(self, "anonymous")
        if not members:
            self.application.members_by_room.pop(self.room)
        for handler in members:
            try:
                handler.write_message({"type": "left", "name": name, "members": len(members)})
            except tornado.websocket.WebSocketClosedError:
                pass
'''

def _submission(student: str, what: str, middleware: str, ticks: str, room: str, score: float | None = None) -> dict:
    """One student's entry: the source of each solution cell of both notebooks, and a wrong one's score."""
    entry = {"student": student, "what": what}
    if score is not None:
        entry["score"] = score
    entry["cells"] = {
        "sanic": {"sanic-middleware": middleware, "sanic-ticks": ticks},
        "tornado": {"tornado-room": room},
    }
    return entry


CORRECT: list[dict] = [
    _submission("idiom-register-classstate",
                "Sanic: app.register_middleware, BadRequest + error handler, Blueprint group + HTTPMethodView + "
                "ResponseStream; Tornado: class-attribute rooms, JSON base class, async def methods",
                _SANIC_MIDDLEWARE_REGISTER, _SANIC_TICKS_VIEW, _TORNADO_ROOM_CLASS_STATE),
    _submission("idiom-decorator-gencoroutine",
                "Sanic: @app.middleware('request'/'response'), app.ctx, app.add_route with a plain function; "
                "Tornado: @gen.coroutine, self.application.settings, IOLoop.add_callback broadcasts",
                _SANIC_MIDDLEWARE_DECORATOR, _SANIC_TICKS_ADD_ROUTE, _TORNADO_ROOM_GEN_COROUTINE),
    _submission("idiom-calls-shared-blueprint",
                "Sanic: app.on_request(fn)/app.on_response(fn) calls with sync functions, one module-level "
                "Blueprint attached to every app; Tornado: state as an attribute of the Application, gathered "
                "async writes",
                _SANIC_MIDDLEWARE_CALLS, _SANIC_TICKS_BLUEPRINT, _TORNADO_ROOM_APP_ATTRIBUTE),
]

# ----------------------------------------------------------------------------------------------
# Wrong submissions (each mistake written out once, or derived from a correct source above)
# ----------------------------------------------------------------------------------------------

# The 400 is answered before the request has an id: the response middleware fails on that
# answer, which leaves without its three headers (test-sanic-headers: -3).
_WRONG_MIDDLEWARE_ID_AFTER_400 = '''
def add_middleware(app):
    @app.on_request
    async def check_id(request):
        request.ctx.started = time.perf_counter()
        header = request.headers.get("X-Request-ID")
        if header is not None and not VALID_REQUEST_ID.fullmatch(header):
            return response.json({"error": "invalid X-Request-ID"}, status=400)
        request.ctx.request_id = header or uuid.uuid4().hex

    @app.on_response
    async def add_headers(request, resp):
        resp.headers["X-Request-ID"] = request.ctx.request_id
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - request.ctx.started) * 1000:.2f}"
'''

# The lines are collected (sleeping between them) and sent as one ordinary response at the end
# (test-sanic-stream and test-sanic-whole: -4).
_WRONG_TICKS_BUFFERED = '''
def add_ticks(app):
    @app.get("/ticks/<n:int>")
    async def ticks(request, n):
        if not 1 <= n <= MAX_TICKS:
            return response.json({"error": "n out of range"}, status=400)
        lines = []
        for i in range(1, n + 1):
            lines.append(json.dumps({"tick": i, "of": n}) + "\\n")
            if i < n:
                await asyncio.sleep(TICK_DELAY)
        return response.text("".join(lines), content_type="application/x-ndjson")
'''

# The allowed n are range(1, MAX_TICKS): /ticks/20 is refused (hidden part of test-sanic-stream: -3).
_WRONG_TICKS_OFF_BY_ONE = edited(_SANIC_TICKS_ADD_ROUTE, ("range(1, MAX_TICKS + 1)", "range(1, MAX_TICKS)"))

# The message goes to every member of the room, the sender included (test-tornado-messages: -4).
_WRONG_ROOM_ECHO_TO_SENDER = edited(_TORNADO_ROOM_CLASS_STATE, (
    "            if other is not self:\n                other.send_json(",
    "            other.send_json(",
))

# The room is counted before the leaving member is removed: every "left" says one too many
# (test-tornado-leave: -3).
_WRONG_ROOM_LEFT_COUNT = '''
class RoomHandler(tornado.websocket.WebSocketHandler):
    def open(self, room):
        self.room = room
        self.name = self.get_query_argument("name", "anonymous")
        self.settings["rooms"].setdefault(room, set()).add(self)
        self.write_message({"type": "welcome", "room": room, "members": len(self.settings["rooms"][room])})

    def on_message(self, message):
        for member in self.settings["rooms"][self.room]:
            if member is not self:
                member.write_message({"type": "message", "from": self.name, "text": message})

    def on_close(self):
        members = self.settings["rooms"].get(getattr(self, "room", None), set())
        count = len(members)
        members.discard(self)
        for member in members:
            member.write_message({"type": "left", "name": self.name, "members": count})
'''

# Server-Timing written as the raw float, not with two decimals (test-sanic-headers and
# test-sanic-whole: -4).
_WRONG_MIDDLEWARE_RAW_TIMING = edited(_SANIC_MIDDLEWARE_CALLS, ('f"app;dur={ms:.2f}"', 'f"app;dur={ms}"'))

# The welcome counts the room before the newcomer is added (test-tornado-welcome and
# test-tornado-leave: -6).
_WRONG_ROOM_WELCOME_COUNT = edited(
    _TORNADO_ROOM_GEN_COROUTINE,
    ("        self.members.append(self)\n", "        count = len(self.members)\n        self.members.append(self)\n"),
    ('"members": len(self.members)})', '"members": count})'),
)

WRONG: list[dict] = [
    _submission("wrong-id-after-400", "Sanic: the 400 is returned before request.ctx.request_id is set",
                _WRONG_MIDDLEWARE_ID_AFTER_400, _SANIC_TICKS_ADD_ROUTE, _TORNADO_ROOM_GEN_COROUTINE, score=17.0),
    _submission("wrong-buffered-ticks", "Sanic: the lines are collected and sent as one response at the end",
                _SANIC_MIDDLEWARE_DECORATOR, _WRONG_TICKS_BUFFERED, _TORNADO_ROOM_APP_ATTRIBUTE, score=16.0),
    _submission("wrong-off-by-one", "Sanic: n = MAX_TICKS refused",
                _SANIC_MIDDLEWARE_CALLS, _WRONG_TICKS_OFF_BY_ONE, _TORNADO_ROOM_CLASS_STATE, score=17.0),
    _submission("wrong-echo-to-sender", "Tornado: the sender gets its own message back",
                _SANIC_MIDDLEWARE_REGISTER, _SANIC_TICKS_VIEW, _WRONG_ROOM_ECHO_TO_SENDER, score=16.0),
    _submission("wrong-left-count", "Tornado: a departure announced with the old member count",
                _SANIC_MIDDLEWARE_DECORATOR, _SANIC_TICKS_BLUEPRINT, _WRONG_ROOM_LEFT_COUNT, score=17.0),
    _submission("wrong-two-mistakes",
                "Sanic: Server-Timing not rounded to two decimals; Tornado: the welcome counts the room before "
                "the newcomer joins",
                _WRONG_MIDDLEWARE_RAW_TIMING, _SANIC_TICKS_VIEW, _WRONG_ROOM_WELCOME_COUNT, score=10.0),
]
