"""Who is calling: the bearer token, its account and its scopes."""

from aiohttp import web

from spark_fed.errors import Forbidden, Unauthorized
from spark_fed.models import Account
from spark_fed.state import CONTEXT
from spark_fed.tokens import Bearer, allows, find_token

BEARER_KEY = web.RequestKey("spark_bearer", object)


async def bearer(request: web.Request) -> Bearer | None:
    """The request's token, or None when it carries none; an unknown or revoked one is 401."""
    if BEARER_KEY in request:
        return request[BEARER_KEY]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    found = None
    if scheme.lower() == "bearer" and token.strip():
        found = await find_token(request.app[CONTEXT].db, token.strip())
        if found is None:
            raise Unauthorized("The access token is invalid")
    request[BEARER_KEY] = found
    return found


async def require(request: web.Request, scope: str) -> Account:
    """The signed-in account, holding SCOPE: 401 without a user token, 403 without the scope."""
    found = await bearer(request)
    if found is None or found.account is None:
        raise Unauthorized("The access token is invalid")
    if not allows(found.scopes, scope):
        raise Forbidden("This action is outside the authorized scopes")
    return found.account


async def optional(request: web.Request, scope: str) -> Account | None:
    """The signed-in account when there is a token (checked as `require` does), else None."""
    found = await bearer(request)
    if found is None:
        return None
    return await require(request, scope)
