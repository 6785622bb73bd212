"""The change channel's marker on SQLite: one row per published change (`spark_fed/changes.py`).

A process that serves the same SQLite database reads the rows after the last id it saw; only the
newest few hundred are kept. On PostgreSQL the channel is NOTIFY and this table stays empty.
"""

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class ChangeMarker(SQLModel, table=True):
    __tablename__ = "changes"

    # A plain INTEGER PRIMARY KEY: SQLite gives the next row max(id) + 1, and pruning never removes
    # the newest row, so ids only grow and a reader can tell when rows it never read were pruned.
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    ids: str = Field(sa_type=Text)  # a JSON array
    # The process that published it, which has told its own subscribers already.
    origin: str = Field(max_length=16)
