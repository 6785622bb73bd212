"""Every list Spark serves costs a fixed number of statements, whatever its size: a thread of 150
posts the statements a thread of 3 does, a page of 12 followers those of 2. An N+1 query (one
statement per item) shows here as a count that grows with the list.

Statements are counted with SQLAlchemy's `before_cursor_execute` event on Spark's engine, only
those run by aiohttp's request handler (`tests/statements.py`)."""

from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp.test_utils import TestClient

from outbox import actions, interactions, posts, safety
from spark_fed.models import Account, Status
from spark_fed.tokens import create_token, parse_scopes

from .conftest import Spark
from .statements import request_statements

AS2 = {"Accept": "application/activity+json"}


class Statements:
    """The statements the request handlers of SPARK run, counted per request."""

    def __init__(self, spark: Spark) -> None:
        self.spark = spark
        self.sent: list[str] = []

    @contextmanager
    def listening(self) -> Iterator["Statements"]:
        with request_statements(self.spark.db.engine) as self.sent:
            yield self

    async def of(self, client: TestClient, path: str, **headers: str) -> tuple[int, int]:
        """(statements, items) of GET PATH; the answer must be 200."""
        before = len(self.sent)
        answer = await client.get(path, headers=headers)
        assert answer.status == 200, (path, await answer.text())
        body = await answer.json() if "json" in answer.content_type else await answer.text()
        return len(self.sent) - before, _items(body)


def _items(body: object) -> int:
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        if "orderedItems" in body:
            return len(body["orderedItems"])
        return len(body.get("ancestors", [])) + len(body.get("descendants", []))
    return str(body).count("data-id=")


async def _client(spark: Spark, aiohttp_client, account: Account) -> TestClient:
    token = await create_token(spark.db, account, parse_scopes("read write follow"))
    client = await aiohttp_client(spark.server)
    client.session.headers["Authorization"] = f"Bearer {token}"
    return client


async def _thread(spark: Spark, author: Account, size: int) -> Status:
    """A thread of SIZE posts under a root: a chain, each fifth post branching off the root."""
    root = await posts.post(spark.ctx, author, "the root")
    parent = root
    for n in range(size - 1):
        reply_to = root if n % 5 == 4 else parent
        parent = await posts.post(spark.ctx, author, f"reply {n}", reply_to=reply_to.uri)
    return root


async def test_a_thread_of_150_costs_what_a_thread_of_3_does(spark: Spark, aiohttp_client) -> None:
    alice = await spark.user("alice")
    api = await _client(spark, aiohttp_client, alice)
    visitor = await aiohttp_client(spark.server)
    small, large = await _thread(spark, alice, 3), await _thread(spark, alice, 150)
    with Statements(spark).listening() as statements:
        counts = {}
        for name, root in (("small", small), ("large", large)):
            counts[name] = (
                await statements.of(api, f"/api/v1/statuses/{root.id}/context"),
                await statements.of(visitor, f"/@alice/{root.id}", Accept="text/html"),
            )
    (api_small, page_small), (api_large, page_large) = counts["small"], counts["large"]
    assert (api_small[1], api_large[1]) == (2, 149)
    assert page_small[1] < page_large[1]
    assert api_small[0] == api_large[0]
    assert page_small[0] == page_large[0]


async def _world(spark: Spark, alice: Account, first: Status, names: list[str]) -> None:
    """NAMES follow alice and she them; each posts to her with #topic, likes and boosts her
    FIRST post, and she boosts theirs and posts; she mutes and blocks a stranger for each."""
    for name in names:
        other = await spark.user(name)
        stranger = await spark.user(f"{name}x")
        await actions.follow(spark.ctx, other, f"alice@{spark.domain}")
        await actions.follow(spark.ctx, alice, f"{name}@{spark.domain}")
        note = await posts.post(spark.ctx, other, f"hi @alice #topic from {name}")
        await interactions.like(spark.ctx, other, first.uri)
        await interactions.boost(spark.ctx, other, first.uri)
        await interactions.boost(spark.ctx, alice, note.uri)
        await posts.post(spark.ctx, alice, f"#topic for {name}")
        await safety.mute(spark.ctx, alice, stranger.username)
        await safety.block(spark.ctx, alice, stranger.username)


async def test_every_list_costs_the_same_for_2_items_and_for_12(spark: Spark, aiohttp_client) -> None:
    alice = await spark.user("alice")
    api = await _client(spark, aiohttp_client, alice)
    peer = await aiohttp_client(spark.server)
    first = await posts.post(spark.ctx, alice, "first")
    lists = [
        ("/api/v1/timelines/home?limit=40", {}),
        ("/api/v1/timelines/public?limit=40", {}),
        ("/api/v1/timelines/tag/topic?limit=40", {}),
        (f"/api/v1/accounts/{alice.id}/statuses?limit=40", {}),
        ("/api/v1/notifications?limit=40", {}),
        (f"/api/v1/statuses/{first.id}/favourited_by?limit=40", {}),
        (f"/api/v1/statuses/{first.id}/reblogged_by?limit=40", {}),
        (f"/api/v1/accounts/{alice.id}/followers?limit=40", {}),
        (f"/api/v1/accounts/{alice.id}/following?limit=40", {}),
        ("/api/v1/blocks?limit=40", {}),
        ("/api/v1/mutes?limit=40", {}),
        ("/users/alice/outbox?page=true", AS2),
        ("/users/alice/followers?page=1", AS2),
        ("/users/alice/following?page=1", AS2),
    ]
    measured: dict[str, list[tuple[int, int]]] = {path: [] for path, _ in lists}
    for names in (["bob", "carol"], [f"user{n}" for n in range(10)]):
        await _world(spark, alice, first, names)
        with Statements(spark).listening() as statements:
            for path, headers in lists:
                client = peer if path.startswith("/users/") else api
                measured[path].append(await statements.of(client, path, **headers))
    grew = {path: sizes for path, sizes in measured.items() if sizes[0][1] >= sizes[1][1]}
    assert grew == {}, "these lists did not grow: (statements, items) small, large"
    varying = {path: sizes for path, sizes in measured.items() if sizes[0][0] != sizes[1][0]}
    assert varying == {}, "these lists cost more statements when longer: (statements, items)"
