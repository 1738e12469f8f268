"""Alembic environment: the app's own database, and an audit row per run.

Every `alembic upgrade` records itself in migration_runs, so an operator (and
the tests) can see how often migrations ran and from which release.
"""
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func

from app.db import engine

if context.config.config_file_name:
    fileConfig(context.config.config_file_name)

audit = MetaData()
migration_runs = Table(
    "migration_runs", audit,
    Column("id", Integer, primary_key=True),
    Column("release", String(64)),
    Column("ran_at", DateTime, server_default=func.now()),
)

with engine.begin() as connection:
    audit.create_all(connection)
    connection.execute(migration_runs.insert().values(
        release=os.environ.get("ASGI_DEPLOY_RELEASE", "unknown")))

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
