"""Counting what a test stored, to show that a refused request stored nothing."""

from sqlmodel import func, select

from .conftest import Spark


async def count_rows(spark: Spark, model) -> int:
    """How many rows of MODEL's table there are now."""
    async with spark.db.read() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()
