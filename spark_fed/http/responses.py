"""The response shapes peers insist on."""

import json
from typing import Any

from aiohttp import web

ACTIVITY_JSON = "application/activity+json"
JRD_JSON = "application/jrd+json"


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def activity_response(data: dict[str, Any], *, status: int = 200) -> web.Response:
    """AS2 JSON as Mastodon serves it: `application/activity+json; charset=utf-8`."""
    return web.Response(body=dumps(data), status=status, content_type=ACTIVITY_JSON, charset="utf-8")


def json_response(
    data: Any,
    *,
    status: int = 200,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.Response(
        body=dumps(data), status=status, content_type=content_type, charset="utf-8", headers=headers
    )


def error_response(message: str, status: int) -> web.Response:
    return json_response({"error": message}, status=status)
