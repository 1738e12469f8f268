"""A plain Starlette app whose settings come only from the environment."""
import hashlib
import os

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

GREETING = os.environ["GREETER_GREETING"]
TOKEN = os.environ["GREETER_TOKEN"]
if not TOKEN:
    raise RuntimeError("GREETER_TOKEN is empty")


async def hello(request):
    # A digest proves the secret arrived without showing it.
    return JSONResponse({"greeting": GREETING, "pid": os.getpid(),
                         "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()})


app = Starlette(routes=[Route("/", hello)])
