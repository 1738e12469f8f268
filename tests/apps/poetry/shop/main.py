"""A Poetry project's app: settings from environment values that hold quotes,
spaces, '$' and backslashes, which must reach it exactly."""
import hashlib
from importlib.metadata import version

from fastapi import FastAPI
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    shop_title: str
    shop_db_password: str


settings = Settings()
app = FastAPI(title=settings.shop_title)


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/")
def index():
    return {"title": settings.shop_title,
            "password_sha256": hashlib.sha256(settings.shop_db_password.encode()).hexdigest(),
            "fastapi": version("fastapi")}
