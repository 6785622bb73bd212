"""OrderedCollections and their pages, paged by cursor as Mastodon's are."""

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from spark_fed.activitystreams import AS2
from spark_fed.errors import BadRequest

PAGE_SIZE = 12


@dataclass(frozen=True)
class Cursor:
    max_id: int | None = None
    min_id: int | None = None

    @property
    def is_first(self) -> bool:
        return self.max_id is None and self.min_id is None


def wants_page(request: web.Request) -> bool:
    return "page" in request.query or "max_id" in request.query or "min_id" in request.query


def read_cursor(request: web.Request) -> Cursor:
    return Cursor(max_id=_int_param(request, "max_id"), min_id=_int_param(request, "min_id"))


def _int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BadRequest(f"{name} must be a non-negative integer")
    return int(raw)


def collection(collection_id: str, total: int) -> dict[str, Any]:
    return {
        "@context": AS2,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": f"{collection_id}?page=true",
    }


def collection_page(
    collection_id: str,
    total: int,
    cursor: Cursor,
    items: list[Any],
    item_ids: list[int],
    *,
    has_more: bool,
) -> dict[str, Any]:
    """One page; ITEM_IDS are the row ids the cursors are made of, newest first."""
    page: dict[str, Any] = {
        "@context": AS2,
        "id": f"{collection_id}?{_cursor_query(cursor)}",
        "type": "OrderedCollectionPage",
        "totalItems": total,
        "partOf": collection_id,
        "orderedItems": items,
    }
    if item_ids and has_more:
        page["next"] = f"{collection_id}?page=true&max_id={item_ids[-1]}"
    if item_ids and not cursor.is_first:
        page["prev"] = f"{collection_id}?page=true&min_id={item_ids[0]}"
    return page


def _cursor_query(cursor: Cursor) -> str:
    query = "page=true"
    if cursor.max_id is not None:
        query += f"&max_id={cursor.max_id}"
    if cursor.min_id is not None:
        query += f"&min_id={cursor.min_id}"
    return query
