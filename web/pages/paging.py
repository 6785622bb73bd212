"""Cursor paging for pages: `?max_id=` of the last row shown, never an offset."""

from urllib.parse import urlencode

from aiohttp import web

PAGE_SIZE = 20


def max_id(request: web.Request) -> int | None:
    raw = request.query.get("max_id", "")
    return int(raw) if raw.isdigit() and len(raw) < 20 else None


def next_page(request: web.Request, ids: list[int], size: int = PAGE_SIZE) -> str | None:
    """The "Load more" link after a full page whose rows had IDS; None after the last page."""
    if len(ids) < size:
        return None
    query = {k: v for k, v in request.query.items() if k != "max_id"}
    return f"{request.path}?{urlencode({**query, 'max_id': min(ids)})}"
