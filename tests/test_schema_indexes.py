"""Every foreign key leads some index: deleting an account or a status (ON DELETE CASCADE or SET
NULL, or the check that nothing still points at it) finds the child rows by index instead of
scanning the child table, however big it is."""

from sqlalchemy import Index, PrimaryKeyConstraint, Table, UniqueConstraint
from sqlmodel import SQLModel

import spark_fed.models  # noqa: F401  (registers every table)


def _leading_columns(table: Table) -> list[list[str]]:
    """The column lists SQLite and PostgreSQL can search by: indexes, primary and unique keys."""
    found = []
    for constraint in table.constraints:
        if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
            found.append([c.name for c in constraint.columns])
    for index in table.indexes:
        if isinstance(index, Index) and all(hasattr(e, "name") for e in index.expressions):
            found.append([e.name for e in index.expressions])
    for column in table.columns:
        if column.unique or column.index:
            found.append([column.name])
    return found


def test_every_foreign_key_leads_an_index() -> None:
    missing = []
    for table in SQLModel.metadata.sorted_tables:
        searchable = _leading_columns(table)
        for key in table.foreign_key_constraints:
            columns = [c.name for c in key.columns]
            if not any(index[: len(columns)] == columns for index in searchable):
                missing.append(f"{table.name}({', '.join(columns)}) -> {key.referred_table.name}")
    assert missing == [], "\n".join(missing)
