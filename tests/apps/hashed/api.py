"""A pip-tools project: requirements.in compiled to a requirements.txt with
hashes. It takes seconds to start, as apps that warm a cache or load a model do."""
import os
import time
from importlib.metadata import version

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

time.sleep(float(os.environ.get("HASHED_WARMUP_SECONDS", "3")))


async def index(request):
    return JSONResponse({"starlette": version("starlette"), "pid": os.getpid()})


app = Starlette(routes=[Route("/", index)])
