"""Mastodon's paging: max_id / since_id / min_id cursors and a Link header, next first."""

from urllib.parse import urlencode

from aiohttp import web

from spark_fed.state import CONTEXT


def link_header(request: web.Request, ids: list[int]) -> dict[str, str]:
    """`rel="next"` (older, max_id) before `rel="prev"` (newer, min_id): Mastodon.py reads them so."""
    if not ids:
        return {}
    base = f"{request.app[CONTEXT].config.base_url}{request.path}"
    kept = {k: v for k, v in request.query.items() if k not in ("max_id", "min_id", "since_id")}
    older = f"{base}?{urlencode({**kept, 'max_id': str(min(ids))})}"
    newer = f"{base}?{urlencode({**kept, 'min_id': str(max(ids))})}"
    return {"Link": f'<{older}>; rel="next", <{newer}>; rel="prev"'}
