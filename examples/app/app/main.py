"""The example app asgi.deploy deploys when you bring none of your own."""
import os
import socket

from fastapi import FastAPI, Query, Request
from pydantic import BaseModel
from sqlalchemy import text

from .db import engine

app = FastAPI(title="asgi.deploy example")
RELEASE = os.environ.get("ASGI_DEPLOY_RELEASE", "unknown")


@app.get("/")
def index(request: Request):
    # scheme and client show whether the proxy's forwarded headers are trusted.
    return {"app": "asgi.deploy example", "release": RELEASE, "pid": os.getpid(),
            "host": socket.gethostname(),
            "scheme": request.url.scheme,
            "client": request.client.host if request.client else None}


@app.get("/health")
def health():
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok", "release": RELEASE}


@app.get("/pid")
def pid():
    """The worker's pid, so tests can count the workers that answer."""
    return {"pid": os.getpid()}


@app.get("/cpu")
async def cpu(n: int = Query(50000, ge=0, le=10_000_000)):
    """n rounds of pure-Python arithmetic: a CPU-bound request of a few
    milliseconds, so the benchmarks can show what more workers buy. async, so
    the work runs on the worker's event loop and not in its thread pool."""
    total = 0
    for i in range(n):
        total = (total + i * i) % 1_000_003
    return {"n": n, "result": total, "pid": os.getpid()}


@app.get("/items")
def items():
    """Reads the table the first migration created."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, name FROM items ORDER BY id")).all()
    return [{"id": row.id, "name": row.name} for row in rows]


class NewItem(BaseModel):
    name: str


@app.post("/items", status_code=201)
def create_item(item: NewItem):
    """Writes one row: tests count the rows acknowledged to clients."""
    with engine.begin() as connection:
        row = connection.execute(text("INSERT INTO items (name) VALUES (:name) RETURNING id"),
                                 {"name": item.name}).one()
    return {"id": row.id, "release": RELEASE, "pid": os.getpid()}
