"""Where the database is: DATABASE_URL, or SQLite in the service's state directory."""
import os

from sqlalchemy import create_engine


def database_url():
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    # systemd sets STATE_DIRECTORY for units with StateDirectory=.
    state = os.environ.get("STATE_DIRECTORY", ".").split(":")[0]
    return "sqlite:///" + os.path.join(state, "example.db")


engine = create_engine(database_url(), pool_pre_ping=True)
