"""The migrations build exactly the schema the models describe, on the configured database."""

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import spark_fed.models  # noqa: F401  (registers every table)
from spark_fed.db import Database
from spark_fed.migrations import file_heads, head_revision, stored_revisions, upgrade, upgrade_if_behind
from spark_fed.models import Account
from spark_fed.models.ids import new_ids, snowflake_floor
from spark_fed.models.types import UTCDateTime


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
@pytest.mark.filterwarnings("ignore:autogenerate skipping")
async def test_migrated_schema_matches_the_models(database_url) -> None:
    db = Database(await database_url())
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
            )
        # Expression indexes cannot be reflected on SQLite; everything else must match.
        assert diff == []
    finally:
        await db.dispose()


def test_the_version_files_name_the_head_alembic_finds() -> None:
    """The quick reader of the version files and alembic agree (on every new migration too)."""
    assert file_heads() == {head_revision()}


async def test_a_database_at_head_is_not_migrated_again_and_alembic_stays_unloaded(
    database_url, tmp_path: Path
) -> None:
    url = await database_url()
    db = Database(url)
    try:
        assert await stored_revisions(db) == set()  # no version table yet
        await upgrade_if_behind(db)
        assert await stored_revisions(db) == {head_revision()}
    finally:
        await db.dispose()
    config = tmp_path / "spark.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    # A command in a process of its own: at head, it must not even import alembic.
    probe = (
        "import sys; from spark_fed.cli import main; "
        f"status = main(['--config', {str(config)!r}, 'users', 'list']); "
        "print(status, 'alembic' in sys.modules, 'mako' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 False False"


async def test_ids_stored_before_the_counters_are_never_given_again(database_url) -> None:
    """Ids had 16 random low bits before the counters: a new id of that millisecond goes above."""
    db = Database(await database_url())
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    old_id = snowflake_floor(moment) | 0xFFF0
    try:
        await upgrade(db, "0013")
        async with db.write() as session:
            # The columns of 0013's accounts only: the model has grown since.
            author_id = (
                await session.exec(
                    sa.insert(Account)
                    .values(
                        uri="https://x.example/users/u",
                        username="u",
                        domain="x.example",
                        inbox_url="https://x.example/users/u/inbox",
                        public_key_id="https://x.example/users/u#main-key",
                        public_key_pem="unused",
                        created_at=moment,
                    )
                    .returning(Account.id)
                )
            ).scalar_one()
            # The columns of revision 0013 only: the model has grown since.
            statuses = sa.table(
                "statuses",
                *(sa.column(name) for name in ("id", "uri", "account_id", "local", "visibility")),
                *(sa.column(name) for name in ("content", "summary", "sensitive")),
                sa.column("published", UTCDateTime()),
                *(sa.column(name) for name in ("replies_count", "reblogs_count", "favourites_count")),
            )
            await session.exec(
                sa.insert(statuses).values(
                    id=old_id,
                    uri="https://x.example/old",
                    account_id=author_id,
                    local=False,
                    visibility="public",
                    content="",
                    summary="",
                    sensitive=False,
                    published=moment,
                    replies_count=0,
                    reblogs_count=0,
                    favourites_count=0,
                )
            )
        await upgrade(db)
        async with db.write() as session:
            new = await new_ids(session, moment, 16)
        assert min(new) > old_id and len(set(new)) == 16
    finally:
        await db.dispose()
