"""The migrations build exactly the schema the models describe, on the configured database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import spark_fed.models  # noqa: F401  (registers every table)
from spark_fed.db import Database
from spark_fed.migrations import upgrade


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
