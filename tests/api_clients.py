"""A test's way in to the client API: a local user and an HTTP client holding her bearer token."""

from typing import Any

from aiohttp.test_utils import TestClient

from spark_fed.models import Account
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark


async def api_client(
    spark: Spark, aiohttp_client, name: str, **user_fields: Any
) -> tuple[TestClient, Account]:
    """(client, account): a new user NAME (USER_FIELDS as `spark.user` takes them) signed in with
    the scopes an ordinary app asks for, so a test reads like the app calls it."""
    account = await spark.user(name, **user_fields)
    token = await create_token(spark.db, account, parse_scopes("read write follow"))
    client = await aiohttp_client(spark.server)
    client.session.headers["Authorization"] = f"Bearer {token}"
    return client, account
