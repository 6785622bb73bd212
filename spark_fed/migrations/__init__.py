"""Alembic migrations, run from code so that no alembic.ini has to be found on disk."""

import warnings
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from ..db import Database

MIGRATIONS_DIR = Path(__file__).parent


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to REVISION; safe to run on every start."""
    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync: _upgrade(sync, revision))
        await conn.commit()


def _upgrade(connection: Connection, revision: str) -> None:
    # Batch operations copy tables on SQLite and reflect them first; SQLite cannot reflect the
    # expression indexes, which the migrations recreate themselves. Not the user's concern.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        command.upgrade(_alembic_config(connection), revision)


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
