"""Alembic migrations, run from code so that no alembic.ini has to be found on disk.

Alembic (and the Mako templating it brings) is imported only when the schema is behind: every
command and every `serve` asks first, with one SELECT, whether the database is already at the
head that the version files name, which it nearly always is. That keeps a command such as
`users list` from paying for alembic's import on every run.
"""

import ast
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ..db import Database

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).parent
_ASSIGNMENT = re.compile(r"^(down_revision|revision)\b[^=\n]*=(.*)$", re.MULTILINE)


def _alembic_config(connection: Connection | None = None) -> "AlembicConfig":
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade_if_behind(db: Database) -> None:
    """`upgrade(db)` unless the database already stands at the one head of the version files."""
    heads = file_heads()
    if heads is not None and len(heads) == 1 and await stored_revisions(db) == heads:
        return
    await upgrade(db)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to REVISION; safe to run on every start."""
    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync: _upgrade(sync, revision))
        await conn.commit()


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    # Batch operations copy tables on SQLite and reflect them first; SQLite cannot reflect the
    # expression indexes, which the migrations recreate themselves. Not the user's concern.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        command.upgrade(_alembic_config(connection), revision)


async def stored_revisions(db: Database) -> set[str]:
    """The revisions alembic recorded in the database; none before the first migration."""
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    except DBAPIError:  # no alembic_version table yet
        return set()


def file_heads() -> set[str] | None:
    """The head revisions, read from the `revision`/`down_revision` lines of the version files.

    None when a file states them in a way this reader does not follow (not a literal): then
    alembic, which reads the files by importing them, decides.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found: dict[str, object] = {}
        for name, value in _ASSIGNMENT.findall(path.read_text(encoding="utf-8")):
            try:
                found[name] = ast.literal_eval(value.strip())
            except (ValueError, SyntaxError):
                return None
        revision, parent = found.get("revision"), found.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(parent, str):
            parents.add(parent)
        elif isinstance(parent, tuple) and all(isinstance(p, str) for p in parent):
            parents.update(parent)
        elif parent is not None:
            return None
    return revisions - parents


async def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
