"""The OpenAPI description of the client API that Spark implements, served as it is shipped.

The document is `api/openapi.yaml`, package data beside this module. It is read once, on the
first request, and served as YAML (RFC 9512's `application/yaml`), which every OpenAPI tool
reads; serving JSON too would need a YAML parser at run time, and Spark does not carry one.
"""

import functools
from importlib.resources import files

from aiohttp import web

routes = web.RouteTableDef()

DOCUMENT = "openapi.yaml"
MEDIA_TYPE = "application/yaml"


@functools.cache
def document() -> bytes:
    """The description's bytes, exactly as shipped."""
    return files(__package__).joinpath(DOCUMENT).read_bytes()


@routes.get("/api/openapi.yaml")
async def openapi_yaml(_request: web.Request) -> web.Response:
    return web.Response(
        body=document(),
        content_type=MEDIA_TYPE,
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )
