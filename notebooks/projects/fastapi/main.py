from typing import Annotated

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel


class Book(BaseModel):
    title: str
    year: int


BOOKS = {
    1: Book(title="Dune", year=1965),
    2: Book(title="Neuromancer", year=1984),
    3: Book(title="Hyperion", year=1989),
}
app = FastAPI(title="Bookshop")


@app.get("/books")
def list_books(since: int = 0, limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[Book]:
    return [book for book in BOOKS.values() if book.year >= since][:limit]


@app.get("/books/{book_id}", responses={404: {"description": "No book with this id"}})
def get_book(book_id: int) -> Book:
    if book_id not in BOOKS:
        raise HTTPException(status_code=404, detail="no such book")
    return BOOKS[book_id]


@app.get("/stats")
def stats() -> dict[str, int]:
    return {"books": len(BOOKS), "oldest": min(book.year for book in BOOKS.values())}
