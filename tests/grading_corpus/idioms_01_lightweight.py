"""Submissions of assignment 01-lightweight written in other idioms than the instructor's, and wrong ones.

Each entry is one student's whole submission: for every notebook (by stem), the source of every solution
cell (by grade_id), as the student's cell would hold it (without nbgrader's solution markers). The CORRECT
ones must score full marks; each WRONG one scores exactly its ``score`` out of 20 (Flask 10: read 3 +
create 3 + validate 4; FastAPI 10: create 3 + invalid 3 + lookup 2 + async 2).
"""

from __future__ import annotations

ASSIGNMENT = "01-lightweight"

# ----------------------------------------------------------------------------------------------
# Flask
# ----------------------------------------------------------------------------------------------

# A blueprint defined once at module level and registered on every new app; each app's books live in
# app.extensions and are reached through current_app; JSON errors from the blueprint's app-wide handlers
# (app_errorhandler), one of them for an exception class of the student's own; an absolute Location
# (url_for(..., _external=True)); jsonify and a response whose status is set afterwards.
FLASK_BLUEPRINT = '''
from dataclasses import dataclass, field

from flask import Blueprint, current_app, jsonify
from werkzeug.exceptions import HTTPException

books_api = Blueprint("books", __name__, url_prefix="/books")


@dataclass
class Catalogue:
    """One app's books; the lock keeps ids unique when requests arrive in several threads."""

    books: dict = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)


class InvalidBook(ValueError):
    """A request body that is not a valid book."""


def catalogue() -> Catalogue:
    return current_app.extensions["catalogue"]


@books_api.app_errorhandler(HTTPException)
def http_error(error):
    return jsonify(error=error.description), error.code


@books_api.app_errorhandler(InvalidBook)
def invalid_book(error):
    return jsonify(error=str(error)), 400


def validated(payload):
    if not isinstance(payload, dict):
        raise InvalidBook("send a JSON object with a title and a year")
    title, year = payload.get("title"), payload.get("year")
    if not isinstance(title, str) or not title.strip():
        raise InvalidBook("'title' must be a non-empty string")
    if type(year) is not int or year not in range(1450, 2101):
        raise InvalidBook("'year' must be an integer from 1450 to 2100")
    return title.strip(), year


@books_api.route("", methods=["GET"])
def list_books():
    shelf = catalogue()
    with shelf.lock:
        return jsonify(list(shelf.books.values()))


@books_api.route("/<int:book_id>", methods=["GET"])
def get_book(book_id):
    shelf = catalogue()
    with shelf.lock:
        book = shelf.books.get(book_id)
    if book is None:
        abort(404, description=f"no book has the id {book_id}")
    return jsonify(book)


@books_api.route("", methods=["POST"])
def add_book():
    title, year = validated(request.get_json(silent=True))
    shelf = catalogue()
    with shelf.lock:
        book = {"id": next(shelf.ids), "title": title, "year": year}
        shelf.books[book["id"]] = book
    response = jsonify(book)
    response.status_code = 201
    response.headers["Location"] = url_for("books.get_book", book_id=book["id"], _external=True)
    return response


def create_app():
    """Return a new Flask app that serves the book API, with an empty collection."""
    app = Flask(__name__)
    app.extensions["catalogue"] = Catalogue()
    app.register_blueprint(books_api)
    return app
'''

# Class-based views: a MethodView for the collection and a plain View for one book, registered with
# app.add_url_rule(view_func=...as_view(...)) and given the app's store through as_view's arguments;
# validation by structural pattern matching; errors raised as ready responses with abort(make_response(...))
# and only routing's 404 left to an @app.errorhandler(404).
FLASK_METHODVIEW = '''
from flask import make_response
from flask.views import MethodView, View


class Library:
    """Books in insertion order; every access holds the lock."""

    def __init__(self):
        self.lock = threading.RLock()
        self.books = []

    def add(self, title, year):
        with self.lock:
            book = {"id": len(self.books) + 1, "title": title, "year": year}
            self.books.append(book)
            return book

    def find(self, book_id):
        with self.lock:
            return next((book for book in self.books if book["id"] == book_id), None)

    def all(self):
        with self.lock:
            return list(self.books)


def fail(status, message):
    abort(make_response({"error": message}, status))


def book_fields(payload):
    match payload:
        case {"title": str(title), "year": int(year)} if type(year) is int and title.strip():
            if 1450 <= year <= 2100:
                return title.strip(), year
            fail(400, f"the year {year} is not from 1450 to 2100")
        case {"title": _, "year": _}:
            fail(400, "'title' must be a non-empty string and 'year' a whole number")
        case _:
            fail(400, "the body must be a JSON object with a title and a year")


class BookCollection(MethodView):
    init_every_request = False

    def __init__(self, library):
        self.library = library

    def get(self):
        return self.library.all()

    def post(self):
        book = self.library.add(*book_fields(request.get_json(silent=True)))
        return make_response(book, 201, {"Location": url_for("book_detail", book_id=book["id"])})


class BookDetail(View):
    methods = ["GET"]
    init_every_request = False

    def __init__(self, library):
        self.library = library

    def dispatch_request(self, book_id):
        book = self.library.find(book_id)
        if book is None:
            fail(404, f"there is no book {book_id}")
        return book


def create_app():
    """Return a new Flask app that serves the book API, with an empty collection."""
    app = Flask(__name__)
    library = Library()
    app.add_url_rule("/books", view_func=BookCollection.as_view("book_collection", library))
    app.add_url_rule("/books/<int:book_id>", view_func=BookDetail.as_view("book_detail", library))

    @app.errorhandler(404)
    def no_such_url(error):
        return {"error": f"nothing at {request.path}"}, 404

    return app
'''

# ----------------------------------------------------------------------------------------------
# FastAPI
# ----------------------------------------------------------------------------------------------

# APIRouters with a prefix, added by app.include_router (one router per cell); an Enum for the tier,
# StringConstraints and conint; the store reached through a dependency (Depends, Annotated); a 404 raised
# by a dependency that loads the reservation; response_model=; the temperature awaited in an async
# dependency of the /temperature route (the reported defect: the old test looked for this route in
# app.routes and did not find it).
FASTAPI_ROUTER_1 = '''
import itertools
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from pydantic import StringConstraints, conint


class Tier(str, Enum):
    standard = "standard"
    premium = "premium"


class ReservationIn(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    seats: conint(ge=1, le=8)
    tier: Tier = Tier.standard


class ReservationOut(ReservationIn):
    id: int


class Ledger:
    def __init__(self):
        self.rows: dict[int, ReservationOut] = {}
        self.ids = itertools.count(1)


ledger = Ledger()


def get_ledger() -> Ledger:
    return ledger


reservations_router = APIRouter(prefix="/reservations", tags=["reservations"])


@reservations_router.post("", response_model=ReservationOut, status_code=status.HTTP_201_CREATED)
def reserve(body: ReservationIn, book: Annotated[Ledger, Depends(get_ledger)]):
    row = ReservationOut(id=next(book.ids), **body.model_dump())
    book.rows[row.id] = row
    return row


app.include_router(reservations_router)
'''

FASTAPI_ROUTER_2 = '''
lookup_router = APIRouter(prefix="/reservations", tags=["reservations"])


def existing_reservation(
    reservation_id: Annotated[int, Path(description="the id that POST /reservations answered")],
    book: Annotated[Ledger, Depends(get_ledger)],
) -> ReservationOut:
    try:
        return book.rows[reservation_id]
    except KeyError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reservation has the id {reservation_id}") from None


@lookup_router.get("/{reservation_id}", response_model=ReservationOut)
def read_reservation(reservation: Annotated[ReservationOut, Depends(existing_reservation)]):
    return reservation


app.include_router(lookup_router)
'''

FASTAPI_ROUTER_3 = '''
weather_router = APIRouter(prefix="/temperature", tags=["weather"])


async def celsius_in(city: str) -> float:
    reading = await weather.temperature(city)
    if reading is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the weather service has no data for {city}")
    return reading


@weather_router.get("/{city}")
async def temperature(city: str, celsius: Annotated[float, Depends(celsius_in)]) -> dict[str, str | float]:
    return {"city": city, "celsius": celsius}


app.include_router(weather_router)
'''

# A standard-library dataclass as the body (constraints in Annotated[..., Field(...)], the body declared
# with Body()); POST registered with @app.api_route(methods=[...]) and its 201 set on an injected Response;
# the lookup added with app.add_api_route, its path parameter named differently, and its 404 an exception of
# the student's own turned into {"detail": ...} by @app.exception_handler (declared in the first cell: Starlette
# builds its middleware stack, with the handlers, when the app is first served); the temperature served by a
# sub-application mounted at /temperature (app.mount), awaiting the service under asyncio.timeout.
FASTAPI_MOUNT_1 = '''
import dataclasses
import itertools
from typing import Annotated

from fastapi import Body, Request, Response
from fastapi.responses import JSONResponse


@dataclasses.dataclass
class Booking:
    name: Annotated[str, Field(min_length=1, max_length=40)]
    seats: Annotated[int, Field(ge=1, le=8)]
    tier: Literal["standard", "premium"] = "standard"


bookings: list[dict] = []
booking_numbers = itertools.count(1)


class BookingNotFound(Exception):
    def __init__(self, number):
        self.number = number


@app.exception_handler(BookingNotFound)
async def booking_not_found(request: Request, exc: BookingNotFound) -> JSONResponse:
    return JSONResponse({"detail": f"there is no reservation {exc.number}"}, status_code=404)


@app.api_route("/reservations", methods=["POST"])
async def new_booking(booking: Annotated[Booking, Body()], response: Response) -> dict:
    record = {"id": next(booking_numbers), **dataclasses.asdict(booking)}
    bookings.append(record)
    response.status_code = 201
    return record
'''

FASTAPI_MOUNT_2 = '''
async def one_booking(number: int) -> dict:
    for record in bookings:
        if record["id"] == number:
            return record
    raise BookingNotFound(number)


app.add_api_route("/reservations/{number}", one_booking, methods=["GET"])
'''

FASTAPI_MOUNT_3 = '''
weather_api = FastAPI(title="Weather")


@weather_api.get("/{city}")
async def current_temperature(city: str):
    async with asyncio.timeout(5):
        celsius = await weather.temperature(city)
    if celsius is None:
        raise HTTPException(404, detail=f"{city} is not a city the weather service knows")
    return {"city": city, "celsius": celsius}


app.mount("/temperature", weather_api)
'''

CORRECT: list[dict] = [
    {
        "student": "idiom-blueprint-router",
        "what": "Flask: module-level Blueprint, state in app.extensions, app_errorhandler; "
                "FastAPI: APIRouter + include_router, Enum, Depends, 404 from a dependency",
        "cells": {
            "flask": {"flask-create-app": FLASK_BLUEPRINT},
            "fastapi": {
                "fastapi-reservations": FASTAPI_ROUTER_1,
                "fastapi-lookup": FASTAPI_ROUTER_2,
                "fastapi-temperature": FASTAPI_ROUTER_3,
            },
        },
    },
    {
        "student": "idiom-methodview-mount",
        "what": "Flask: MethodView/View + add_url_rule, pattern matching, abort(response); "
                "FastAPI: dataclass body, api_route/add_api_route, exception_handler, mounted sub-app",
        "cells": {
            "flask": {"flask-create-app": FLASK_METHODVIEW},
            "fastapi": {
                "fastapi-reservations": FASTAPI_MOUNT_1,
                "fastapi-lookup": FASTAPI_MOUNT_2,
                "fastapi-temperature": FASTAPI_MOUNT_3,
            },
        },
    },
]

# ----------------------------------------------------------------------------------------------
# Wrong submissions
# ----------------------------------------------------------------------------------------------

# The blueprint's handler registered with errorhandler instead of app_errorhandler: it answers for errors
# raised in the blueprint's views (GET /books/42 still gets JSON), but routing's 404 for /books/abc happens
# before any blueprint is chosen, so Flask answers it with its HTML page. test-flask-read fails (3).
FLASK_BLUEPRINT_LOCAL_HANDLER = FLASK_BLUEPRINT.replace(
    "@books_api.app_errorhandler(HTTPException)", "@books_api.errorhandler(HTTPException)"
)

# request.get_json() without silent=True: a form body gets Flask's 415 Unsupported Media Type instead of
# the 400 the assignment asks for (as JSON, through the student's handler). test-flask-validate fails (4).
FLASK_STRICT_GET_JSON = FLASK_BLUEPRINT.replace("request.get_json(silent=True)", "request.get_json()")

# A sync def endpoint that runs the service with asyncio.run and, because "the server answers requests in
# several threads at once", holds a lock around it: the eight requests of the burst are served one after the
# other and never overlap. test-fastapi-async fails (2).
FASTAPI_SYNC_LOCKED = '''
import threading

weather_lock = threading.Lock()


@app.get("/temperature/{city}")
def temperature(city: str) -> dict:
    with weather_lock:
        celsius = asyncio.run(weather.temperature(city))
    if celsius is None:
        raise HTTPException(status_code=404, detail=f"unknown city {city!r}")
    return {"city": city, "celsius": celsius}
'''

# The tier as a plain str (any tier is accepted: test-fastapi-invalid fails, 3) and the id taken as a str
# and converted by hand (/reservations/abc raises ValueError, a 500 instead of 422: test-fastapi-lookup
# fails, 2).
FASTAPI_LOOSE_1 = '''
class ReservationRequest(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    seats: int = Field(ge=1, le=8)
    tier: str = "standard"


reservations: dict[int, dict] = {}


@app.post("/reservations", status_code=201)
def create_reservation(request: ReservationRequest):
    reservation = {"id": len(reservations) + 1, **request.model_dump()}
    reservations[reservation["id"]] = reservation
    return reservation
'''

FASTAPI_LOOSE_2 = '''
@app.get("/reservations/{reservation_id}")
def get_reservation(reservation_id: str):
    number = int(reservation_id)
    if number not in reservations:
        raise HTTPException(status_code=404, detail="no such reservation")
    return reservations[number]
'''

WRONG: list[dict] = [
    {
        "student": "wrong-sync-locked",
        "what": "a sync def /temperature that runs the service with asyncio.run under a lock: no overlap",
        "score": 18.0,
        "cells": {
            "flask": {"flask-create-app": FLASK_METHODVIEW},
            "fastapi": {
                "fastapi-reservations": FASTAPI_ROUTER_1,
                "fastapi-lookup": FASTAPI_ROUTER_2,
                "fastapi-temperature": FASTAPI_SYNC_LOCKED,
            },
        },
    },
    {
        "student": "wrong-blueprint-handler",
        "what": "the blueprint's errorhandler instead of app_errorhandler: /books/abc gets Flask's HTML 404",
        "score": 17.0,
        "cells": {
            "flask": {"flask-create-app": FLASK_BLUEPRINT_LOCAL_HANDLER},
            "fastapi": {
                "fastapi-reservations": FASTAPI_MOUNT_1,
                "fastapi-lookup": FASTAPI_MOUNT_2,
                "fastapi-temperature": FASTAPI_MOUNT_3,
            },
        },
    },
    {
        "student": "wrong-strict-get-json",
        "what": "request.get_json() without silent=True: a form body gets 415 instead of 400",
        "score": 16.0,
        "cells": {
            "flask": {"flask-create-app": FLASK_STRICT_GET_JSON},
            "fastapi": {
                "fastapi-reservations": FASTAPI_ROUTER_1,
                "fastapi-lookup": FASTAPI_ROUTER_2,
                "fastapi-temperature": FASTAPI_ROUTER_3,
            },
        },
    },
    {
        "student": "wrong-loose-types",
        "what": "FastAPI: the tier a plain str (any tier accepted) and the id a str converted by hand (500 for abc)",
        "score": 15.0,
        "cells": {
            "flask": {"flask-create-app": FLASK_BLUEPRINT},
            "fastapi": {
                "fastapi-reservations": FASTAPI_LOOSE_1,
                "fastapi-lookup": FASTAPI_LOOSE_2,
                "fastapi-temperature": FASTAPI_MOUNT_3,
            },
        },
    },
]
